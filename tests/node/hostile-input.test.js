// What an attacker found in the first version of the cache (issue 9), each finding a test that
// failed before its fix: hostile JWKS bodies, arguments, clocks and fetches, against a real issuer
// on 127.0.0.1 and through the built package.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { gzipSync, createGzip } from 'node:zlib';
import { createJwksCache, JwksCacheError, JwksResponseError } from 'jwks-cache';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';
// The package's own glue (the same module instance): initSync on it returns the wasm exports.
import { initSync } from '../../node_modules/jwks-cache/wasm/jwks_cache.js';

let issuer;
before(async () => {
  issuer = await startJwksServer();
});
after(() => issuer.close());
beforeEach(() => {
  issuer.behave('ok');
  issuer.setKeys([makePublicJwk('EC', 'ec-1')]);
  issuer.resetCounts();
});

/** A fetch that answers every request with `response()` and counts the calls. */
function fakeFetch(response) {
  const fetchImpl = async () => {
    fetchImpl.calls += 1;
    return response();
  };
  fetchImpl.calls = 0;
  return fetchImpl;
}

// --- Wrong key served -------------------------------------------------------------------------

test('a "__proto__" member is an own member of the key, as JSON.parse makes it, and never its prototype', async () => {
  const [real, other] = [makePublicJwk('RSA', 'a'), makePublicJwk('RSA', 'other')];
  const evil = { alg: 'none', n: other.n, kid: 'zzz', e: other.e };
  // JSON.stringify would drop a __proto__ member; write it by hand, first, as the attacker did.
  const body = `{"keys":[{"__proto__":${JSON.stringify(evil)},${JSON.stringify(real).slice(1)}]}`;
  issuer.behave('body', body);
  const jwk = await createJwksCache().getKey(issuer.jwksUri, 'a');

  assert.equal(Object.getPrototypeOf(jwk), Object.prototype);
  assert.deepEqual(Object.keys(jwk), Object.keys(JSON.parse(body).keys[0]));
  assert.ok(Object.hasOwn(jwk, '__proto__'));
  assert.deepEqual(Object.getOwnPropertyDescriptor(jwk, '__proto__').value, evil);
  assert.equal(jwk.n, real.n);
  assert.equal(jwk.alg, 'RS256');
  assert.equal(jwk.kid, 'a');
  const imported = createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'jwk' });
  assert.equal(imported.n, real.n, 'crypto imports the real key, not the attacker\'s');
});

test('"__proto__" members at every depth, and "__proto__": null, stay plain members', async () => {
  const body =
    '{"keys":[{"kid":"b","kty":"EC","__proto__":null,"ext":{"__proto__":{"polluted":true},"x5c":[{"__proto__":[]}]}}]}';
  issuer.behave('body', body);
  const jwk = await createJwksCache().getKey(issuer.jwksUri, 'b');
  assert.equal(String(jwk), '[object Object]');
  assert.equal(jwk.__proto__, null, 'an own member named __proto__ (null) shadows the accessor');
  assert.equal(Object.getPrototypeOf(jwk.ext), Object.prototype);
  assert.equal(jwk.ext.polluted, undefined);
  assert.deepEqual(Object.getOwnPropertyDescriptor(jwk.ext, '__proto__').value, { polluted: true });
  assert.equal(Object.getPrototypeOf(jwk.ext.x5c[0]), Object.prototype);
  assert.ok(Array.isArray(Object.getOwnPropertyDescriptor(jwk.ext.x5c[0], '__proto__').value));
  assert.ok(Object.isFrozen(jwk.ext.__proto__) && Object.isFrozen(jwk.ext.x5c[0]), 'frozen all the way down');
  assert.equal({}.polluted, undefined, 'nothing reached Object.prototype');
});

test('a kid or URI with a lone surrogate is refused before it can reach the core altered', async () => {
  issuer.setKeys([makePublicJwk('EC', '\uFFFD'), makePublicJwk('EC', 'ec-1')]);
  const cache = createJwksCache();
  assert.equal((await cache.getKey(issuer.jwksUri, '\uFFFD')).kid, '\uFFFD');
  for (const kid of ['\ud800', 'a\udc00', '\udc00\ud800']) {
    for (const round of ['first', 'second']) {
      await assert.rejects(cache.getKey(issuer.jwksUri, kid), (error) => {
        assert.equal(error.code, 'ERR_KID_INVALID', `${round} lookup of ${JSON.stringify(kid)}`);
        assert.match(error.message, /^Token key id invalid: not well-formed Unicode/);
        return true;
      });
    }
  }
  await assert.rejects(cache.getKey(`${issuer.jwksUri}?\ud800`, 'ec-1'), (error) => {
    assert.equal(error.code, 'ERR_JWKS_URI_INVALID');
    assert.match(error.message, /^JWKS URI invalid: not well-formed Unicode/);
    return true;
  });
  assert.equal((await cache.getKey(issuer.jwksUri, '\ud83d\ude00')), null, 'a surrogate pair is a real character');
  assert.equal(issuer.jwksRequests, 2);
});

test('a body with a lone surrogate escape is refused as invalid JSON', async () => {
  issuer.behave('body', '{"keys":[{"kid":"\\ud800","kty":"EC"}]}');
  await assert.rejects(createJwksCache().getKey(issuer.jwksUri, '\uFFFD'), { code: 'ERR_JWKS_INVALID_JSON' });
});

test('one kid bound everywhere: a key whose kid no lookup accepts never enters a set', async () => {
  const [longest, tooLong, huge] = ['k'.repeat(1024), 'k'.repeat(1025), 'k'.repeat(5000)];
  issuer.setKeys([makePublicJwk('EC', longest), makePublicJwk('EC', tooLong), makePublicJwk('EC', huge), makePublicJwk('EC', 'ec-1')]);
  const cache = createJwksCache();
  for (const temperature of ['cold', 'warm']) {
    for (const kid of [tooLong, huge]) {
      await assert.rejects(cache.getKey(issuer.jwksUri, kid), { code: 'ERR_KID_INVALID' }, `${temperature}, ${kid.length}`);
    }
    assert.equal((await cache.getKey(issuer.jwksUri, longest)).kid, longest, temperature);
  }
  assert.equal(issuer.jwksRequests, 1);
});

test('a huge URI or kid is refused without being copied into wasm, whose memory never shrinks', async () => {
  const { memory } = initSync({ module: new Uint8Array(0) });
  const cache = createJwksCache();
  const before = memory.buffer.byteLength;
  const huge = 'a'.repeat(50_000_000);
  await assert.rejects(cache.getKey(`https://issuer.test/${huge}`, 'a'), { code: 'ERR_JWKS_URI_INVALID', message: 'JWKS URI invalid: longer than 8192 bytes' });
  await assert.rejects(cache.getKey(issuer.jwksUri, huge), { code: 'ERR_KID_INVALID', message: 'Token key id invalid: longer than 1024 bytes' });
  assert.equal(memory.buffer.byteLength, before, 'the wasm memory did not grow');
  // At the bounds, counted in UTF-8 bytes: 342 three-byte characters are 1026 bytes.
  await assert.rejects(cache.getKey(issuer.jwksUri, '\u20ac'.repeat(342)), { code: 'ERR_KID_INVALID' });
  assert.equal(await cache.getKey(issuer.jwksUri, '\u20ac'.repeat(341)), null);
});

// --- Bounds on what a response may cost ---------------------------------------------------------

test('F2: a body past maxResponseBytes is cut off as it streams in, and the good set is kept', async () => {
  const cache = createJwksCache({ maxResponseBytes: 4096 });
  const good = await cache.getKey(issuer.jwksUri, 'ec-1');
  let written = 0;
  let cut = false;
  issuer.behave('respond', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.on('close', () => (cut = !res.writableFinished));
    const chunk = `{"keys":[],"pad":"${'p'.repeat(1000)}`;
    const dribble = setInterval(() => {
      if (res.destroyed || written > 1_000_000) return clearInterval(dribble);
      written += chunk.length;
      res.write(chunk);
    }, 1);
  });
  await assert.rejects(cache.getKey(issuer.jwksUri, 'rotated'), (error) => {
    assert.ok(error instanceof JwksResponseError);
    assert.equal(error.code, 'ERR_JWKS_RESPONSE_TOO_LARGE');
    assert.equal(error.message, 'JWKS response is larger than 4096 bytes');
    return true;
  });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(cut, 'the cache closed the connection before the issuer finished');
  assert.ok(written < 100_000, `the issuer could write only ${written} bytes, not the megabyte it meant to`);
  issuer.behave('ok');
  assert.equal(await cache.getKey(issuer.jwksUri, 'ec-1'), good);
});

test('F2: the bound counts decoded bytes: a gzip bomb is refused after 512 KiB of it by default', async () => {
  // 172 MB of "[0,0,...]" in about 170 KB of gzip: the body that trapped the first core.
  let sentCompressed = 0;
  issuer.behave('respond', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    const gzip = createGzip();
    gzip.on('data', (chunk) => (sentCompressed += chunk.length));
    gzip.pipe(res);
    const block = Buffer.from('0,'.repeat(64 * 1024));
    gzip.write('{"keys":[');
    let left = 1300; // 1300 x 128 KiB = 170 MB
    const pump = () => {
      while (left > 0 && !res.destroyed) {
        left -= 1;
        if (!gzip.write(block)) return void gzip.once('drain', pump);
      }
      if (!res.destroyed) gzip.end('0]}');
    };
    pump();
    res.on('close', () => gzip.destroy());
  });
  await assert.rejects(createJwksCache().getKey(issuer.jwksUri, 'ec-1'), { code: 'ERR_JWKS_RESPONSE_TOO_LARGE', message: 'JWKS response is larger than 524288 bytes' });
  assert.ok(sentCompressed < 1_000_000, `gzip sent ${sentCompressed} bytes before the cut`);
});

test('F2: a set with more entries than maxKeys is refused whole (default 100), the good set kept', async () => {
  const entries = (count) => Array.from({ length: count }, (_, i) => ({ kid: `k${i}`, kty: 'EC' }));
  issuer.setKeys(entries(100));
  const cache = createJwksCache();
  assert.equal((await cache.getKey(issuer.jwksUri, 'k99')).kid, 'k99', '100 entries are fine');
  issuer.setKeys(entries(101));
  await assert.rejects(cache.getKey(issuer.jwksUri, 'k100'), (error) => {
    assert.ok(error instanceof JwksResponseError);
    assert.equal(error.code, 'ERR_JWKS_TOO_MANY_KEYS');
    assert.equal(error.message, 'JWKS response has more than 100 keys');
    return true;
  });
  assert.equal((await cache.getKey(issuer.jwksUri, 'k0')).kid, 'k0', 'the good set answers');
  assert.equal((await createJwksCache({ maxKeys: 101 }).getKey(issuer.jwksUri, 'k100')).kid, 'k100');
  // A million entries (3 MB) is refused by size long before anything counts them.
  issuer.behave('body', `{"keys":[${Array(1_000_000).fill('{}').join(',')}]}`);
  await assert.rejects(createJwksCache().getKey(issuer.jwksUri, 'k1'), { code: 'ERR_JWKS_RESPONSE_TOO_LARGE' });
  await assert.rejects(createJwksCache({ maxResponseBytes: 16 * 1024 * 1024 }).getKey(issuer.jwksUri, 'k1'), { code: 'ERR_JWKS_TOO_MANY_KEYS' });
});

test('F2: JSON nested deeper than 16 levels is refused', async () => {
  const nested = (depth) => `{"keys":[{"kid":"a","x":${'['.repeat(depth)}0${']'.repeat(depth)}}]}`;
  issuer.behave('body', nested(13));
  assert.equal((await createJwksCache().getKey(issuer.jwksUri, 'a')).kid, 'a', '16 levels in all');
  issuer.behave('body', nested(14));
  await assert.rejects(createJwksCache().getKey(issuer.jwksUri, 'a'), { code: 'ERR_JWKS_NESTING_TOO_DEEP', message: 'JWKS response nests deeper than 16 levels' });
  issuer.behave('body', '['.repeat(100_000));
  await assert.rejects(createJwksCache().getKey(issuer.jwksUri, 'a'), { code: 'ERR_JWKS_NESTING_TOO_DEEP' });
});

test('the bounds are options, checked like the others', () => {
  for (const options of [{ maxResponseBytes: 0 }, { maxResponseBytes: 16 * 1024 * 1024 + 1 }, { maxResponseBytes: 1.5 }, { maxKeys: 0 }, { maxKeys: 1_001 }, { maxKeys: '5' }]) {
    assert.throws(() => createJwksCache(options), { code: 'ERR_INVALID_OPTION' }, JSON.stringify(options));
  }
  createJwksCache({ maxResponseBytes: 1, maxKeys: 1 });
  createJwksCache({ maxResponseBytes: 16 * 1024 * 1024, maxKeys: 1_000 });
});

test('error messages quote outside text only up to a bound', async () => {
  const name = 'n'.repeat(7_000_000);
  issuer.behave('body', `{"keys":[],"${name}":1,"${name}":2}`);
  await assert.rejects(createJwksCache({ maxResponseBytes: 16 * 1024 * 1024 }).getKey(issuer.jwksUri, 'a'), (error) => {
    assert.equal(error.code, 'ERR_JWKS_INVALID_JSON');
    assert.ok(error.message.length < 400, `${error.message.length} chars`);
    return true;
  });
  const cache = createJwksCache({ fetch: () => Promise.reject(new TypeError('x'.repeat(5_000_000), { cause: { code: 'y'.repeat(5_000_000) } })) });
  await assert.rejects(cache.getKey(issuer.jwksUri, 'a'), (error) => {
    assert.equal(error.code, 'ERR_JWKS_NETWORK');
    assert.ok(error.message.length < 700, `${error.message.length} chars`);
    return true;
  });
  await assert.rejects(createJwksCache().getKey(`ftp://${'h'.repeat(100_000)}`, 'a'), (error) => {
    assert.equal(error.code, 'ERR_JWKS_URI_INVALID');
    assert.ok(error.message.length < 400, `${error.message.length} chars`);
    return true;
  });
});

// --- Shared state and clocks --------------------------------------------------------------------

test('a URI fetch could not parse is ERR_JWKS_URI_INVALID, and no failure switches no-store off', async () => {
  const seen = [];
  const cache = createJwksCache({
    maxRetries: 0,
    fetch: (input, init) => {
      seen.push(init.cache);
      if (input.includes('refuse')) throw new TypeError("Unsupported 'cache' member (refuse)");
      return fetch(input, init);
    },
  });
  for (const uri of ["http://a:b:c/'cache'", 'http://a:b:c/x', 'https://[::1/jwks', 'http://exa mple.com/']) {
    await assert.rejects(cache.getKey(uri, 'x'), { code: 'ERR_JWKS_URI_INVALID' }, uri);
  }
  assert.deepEqual(seen, [], 'none of them was fetched');
  await assert.rejects(cache.getKey(`${issuer.jwksUri}?refuse`, 'x'), { code: 'ERR_JWKS_NETWORK' });
  assert.equal((await cache.getKey(issuer.jwksUri, 'ec-1')).kid, 'ec-1');
  assert.deepEqual(seen, ['no-store', 'no-store'], 'a failure that merely mentions the cache member changes nothing');
  assert.equal((await createJwksCache().getKey('HTTP://127.0.0.1:' + new URL(issuer.jwksUri).port + '/.well-known/jwks.json', 'ec-1')).kid, 'ec-1');
});

test('a clock that gives no time fails the call with ERR_CLOCK_INVALID, cold or warm, and fetches nothing', async () => {
  for (const reading of [NaN, -1, Infinity, -Infinity, 1e20, 8.64e15 + 1, '1700000000000', 1700000000000n, undefined]) {
    let now = 1_700_000_000_000;
    const cache = createJwksCache({ now: () => now });
    await cache.getKey(issuer.jwksUri, 'ec-1');
    issuer.resetCounts();
    now = reading;
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => cache.getKey(issuer.jwksUri, 'ec-1')));
    for (const { status, reason } of results) {
      assert.equal(status, 'rejected', String(reading));
      assert.equal(reason.code, 'ERR_CLOCK_INVALID', String(reading));
      assert.match(reason.message, /^Clock invalid: /);
    }
    assert.equal(issuer.jwksRequests, 0, String(reading));
  }
});

test('a clock that throws makes getKey reject, never throw synchronously', async () => {
  let broken = false;
  const cache = createJwksCache({
    now: () => {
      if (broken) throw new RangeError('clock unplugged');
      return Date.now();
    },
  });
  await cache.getKey(issuer.jwksUri, 'ec-1');
  broken = true;
  for (const kid of ['ec-1', 'unknown']) {
    const pending = cache.getKey(issuer.jwksUri, kid);
    assert.ok(pending instanceof Promise);
    await assert.rejects(pending, (error) => {
      assert.ok(error instanceof JwksCacheError);
      assert.equal(error.code, 'ERR_CLOCK_INVALID');
      assert.equal(error.message, 'Clock invalid: now() threw: clock unplugged');
      assert.equal(error.cause.message, 'clock unplugged');
      return true;
    });
  }
});

test('a clock stepped back makes the set stale, not fresh for as long as the step', async () => {
  let now = 1_700_000_000_000;
  const cache = createJwksCache({ now: () => now });
  await cache.getKey(issuer.jwksUri, 'ec-1');
  now -= 30 * 24 * 3600 * 1000;
  await cache.getKey(issuer.jwksUri, 'ec-1');
  assert.equal(issuer.jwksRequests, 2, 'fetched again');
  await cache.getKey(issuer.jwksUri, 'ec-1');
  assert.equal(issuer.jwksRequests, 2, 'and fresh again from the new reading');
});

test('a clock stepped back 30 days during a fetch: waiters neither spin nor hang', async () => {
  const warnings = [];
  const onWarning = (warning) => warnings.push(warning.name);
  process.on('warning', onWarning);
  try {
    let now = 1_700_000_000_000;
    let decisions = 0;
    const cache = createJwksCache({
      timeoutMs: 300,
      now: () => {
        decisions += 1;
        return now;
      },
    });
    issuer.behave('slow', 150);
    const leader = cache.getKey(issuer.jwksUri, 'ec-1');
    now -= 30 * 24 * 3600 * 1000;
    // Callers arriving after the step: the running fetch began "in the future", so it cannot be
    // trusted to end by its deadline; one of them fetches anew and the others wait on that.
    const waiters = Array.from({ length: 100 }, () => cache.getKey(issuer.jwksUri, 'ec-1'));
    const answers = await Promise.all([leader, ...waiters]);
    assert.ok(answers.every((jwk) => jwk.kid === 'ec-1'));
    assert.ok(decisions < 1000, `${decisions} clock readings for 101 calls`);
    assert.equal(issuer.jwksRequests, 2);
    assert.deepEqual(warnings.filter((name) => name === 'TimeoutOverflowWarning'), []);
  } finally {
    process.off('warning', onWarning);
  }
});

// --- Smaller things ------------------------------------------------------------------------------

test('each caller of a failed fetch gets its own error object', async () => {
  issuer.behave('status', 503);
  const cache = createJwksCache({ maxRetries: 0 });
  const [a, b] = await Promise.allSettled([cache.getKey(issuer.jwksUri, 'ec-1'), cache.getKey(issuer.jwksUri, 'ec-1')]);
  assert.equal(issuer.jwksRequests, 1);
  assert.notEqual(a.reason, b.reason);
  a.reason.message = 'changed by one caller';
  assert.equal(b.reason.message, 'Failed to fetch JWKS (503)');
  assert.equal(b.reason.status, 503);
});

test('a custom fetch\'s status outside 100-599 is an error, never cut to 16 bits and read as 200', async () => {
  const body = JSON.stringify({ keys: [{ kid: 'a', kty: 'EC' }] });
  for (const [status, message] of [
    [65736, 'Failed to fetch JWKS (invalid HTTP status 65736)'],
    [600, 'Failed to fetch JWKS (invalid HTTP status 600)'],
    [99, 'Failed to fetch JWKS (invalid HTTP status 99)'],
    [200.5, 'Failed to fetch JWKS (invalid HTTP status 0)'],
    ['200', 'Failed to fetch JWKS (invalid HTTP status 0)'],
  ]) {
    const cache = createJwksCache({ fetch: fakeFetch(() => ({ status, ok: true, body: new Response(body).body })) });
    await assert.rejects(cache.getKey('https://issuer.test/jwks', 'a'), (error) => {
      assert.equal(error.code, 'ERR_JWKS_HTTP_STATUS', String(status));
      assert.equal(error.message, message);
      return true;
    });
  }
});

test('a UTF-8 byte order mark before the JSON is skipped, as Response.json() does', async () => {
  const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"keys":[{"kid":"a","kty":"EC"}]}')]);
  assert.deepEqual(await new Response(body).json(), { keys: [{ kid: 'a', kty: 'EC' }] });
  issuer.behave('respond', (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  assert.deepEqual(await createJwksCache().getKey(issuer.jwksUri, 'a'), { kid: 'a', kty: 'EC' });
});

test('numbers equal in value (1 and 1.0, 0 and -0) make two copies of one key, not an ambiguous kid', async () => {
  issuer.behave('body', '{"keys":[{"kid":"a","kty":"EC","v":1,"z":0},{"kid":"a","kty":"EC","v":1.0,"z":-0},{"kid":"b","v":1},{"kid":"b","v":2}]}');
  const cache = createJwksCache();
  const jwk = await cache.getKey(issuer.jwksUri, 'a');
  assert.ok(Object.is(jwk.z, 0), 'the first copy is served');
  await assert.rejects(cache.getKey(issuer.jwksUri, 'b'), { code: 'ERR_JWKS_AMBIGUOUS_KID' });
});

test('a gzip response within the bound is read whole', async () => {
  issuer.setKeys([makePublicJwk('RSA', 'big')]);
  const body = gzipSync(JSON.stringify({ keys: issuer.keys }));
  issuer.behave('respond', (req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(body));
  assert.deepEqual(await createJwksCache().getKey(issuer.jwksUri, 'big'), issuer.keys[0]);
});

// --- Found by the attacker pass on the hardened package -----------------------------------------

test('a body stream that answers every read at once (empty chunks) still times out', async () => {
  const endless = () => new Response(new ReadableStream({ pull: (controller) => controller.enqueue(new Uint8Array(0)) }));
  const cache = createJwksCache({ timeoutMs: 100, fetch: fakeFetch(endless) });
  await assert.rejects(cache.getKey('https://issuer.test/jwks', 'a'), { code: 'ERR_JWKS_TIMEOUT' });
});

test('one reading that is no number, just as a caller starts waiting, costs a retry, never a raw TypeError', async () => {
  for (const bad of [1n, Symbol('now'), { valueOf: () => { throw new Error('no'); } }]) {
    // Readings: 1 the leader's decision, 2 the joiner's decision, 3 the joiner's wait: the bad one.
    let reads = 0;
    const cache = createJwksCache({ now: () => (++reads === 3 ? bad : 1_700_000_000_000) });
    issuer.behave('slow', 100);
    const leader = cache.getKey(issuer.jwksUri, 'ec-1');
    // The joiner's wait ends at once; its next decision, on a good reading, joins the fetch again.
    assert.equal((await cache.getKey(issuer.jwksUri, 'ec-1')).kid, 'ec-1', typeof bad);
    assert.equal((await leader).kid, 'ec-1');
  }
});

test('a clock that throws while a response is reported ends that fetch: the next caller fetches at once', async () => {
  let armed = false;
  const cache = createJwksCache({
    now: () => {
      if (armed) {
        armed = false;
        throw new Error('clock glitch');
      }
      return 1_700_000_000_000; // stands still: a fetch left running would hold callers forever
    },
  });
  issuer.behave('slow', 50);
  const first = cache.getKey(issuer.jwksUri, 'ec-1');
  await new Promise((resolve) => setTimeout(resolve, 10));
  armed = true;
  await assert.rejects(first, { code: 'ERR_CLOCK_INVALID', message: 'Clock invalid: now() threw: clock glitch' });
  assert.equal((await cache.getKey(issuer.jwksUri, 'ec-1')).kid, 'ec-1');
  assert.equal(issuer.jwksRequests, 2);
});

test('a URI with credentials is refused before any request, and no message quotes them', async () => {
  const withCredentials = issuer.jwksUri.replace('http://', 'http://admin:s3cret-password@');
  await assert.rejects(createJwksCache().getKey(withCredentials, 'ec-1'), (error) => {
    assert.equal(error.code, 'ERR_JWKS_URI_INVALID');
    assert.match(error.message, /credentials/);
    assert.ok(!error.message.includes('s3cret'), error.message);
    return true;
  });
  await assert.rejects(createJwksCache().getKey('ftp://admin:s3cret-password@host/jwks', 'a'), (error) => !error.message.includes('s3cret'));
  assert.equal(issuer.jwksRequests, 0);
});

test("one cache's fetch refusing the cache member decides nothing for another cache", async () => {
  const refusal = () => Object.assign(new Error("The 'cache' field on 'RequestInitializerDict' is not implemented."));
  const seen = { old: [], other: [] };
  const oldRuntime = createJwksCache({
    fetch: (input, init) => {
      seen.old.push(init.cache ?? null);
      if (init.cache !== undefined) throw refusal();
      return fetch(input, init);
    },
  });
  const other = createJwksCache({ fetch: (input, init) => (seen.other.push(init.cache ?? null), fetch(input, init)) });
  assert.equal((await oldRuntime.getKey(issuer.jwksUri, 'ec-1')).kid, 'ec-1');
  assert.equal((await oldRuntime.getKey(issuer.jwksUri, 'unknown')), null);
  assert.equal((await other.getKey(issuer.jwksUri, 'ec-1')).kid, 'ec-1');
  assert.deepEqual(seen, { old: ['no-store', null, null], other: ['no-store'] });
});

test('an options object that cannot be read is ERR_INVALID_OPTION', () => {
  const hostile = [
    { get ttlMs() { throw new Error('getter'); } },
    new Proxy({}, { get() { throw new Error('trap'); } }),
  ];
  for (const options of hostile) {
    assert.throws(() => createJwksCache(options), { code: 'ERR_INVALID_OPTION', message: 'Invalid option: the options object could not be read' });
  }
});

// --- Found by the second attacker pass, on the reading that builds no tree ----------------------

test('copies of one kid compare numbers as exact decimals: trailing zeros are one number, a last digit is not', async () => {
  const cases = [
    ['50458225.100851500', '50458225.1008515', 'one key'],
    ['1.50e2', '150', 'one key'],
    ['920395939026694', '920395939026694.1', 'ambiguous'],
    ['9.690971296817587', '9.690971296817589', 'ambiguous'],
  ];
  for (const [x, y, expected] of cases) {
    issuer.behave('body', `{"keys":[{"kid":"a","x":${x}},{"kid":"a","x":${y}}]}`);
    const lookup = createJwksCache().getKey(issuer.jwksUri, 'a');
    if (expected === 'one key') assert.equal((await lookup).x, JSON.parse(x), `${x} ${y}`);
    else await assert.rejects(lookup, { code: 'ERR_JWKS_AMBIGUOUS_KID' }, `${x} ${y}`);
  }
});

test('comparing two large copies of one kid costs their member lists, not trees of them', async () => {
  const { memory } = initSync({ module: new Uint8Array(0) });
  // 12 nested one-member objects per item: built as trees, 80 times the body in wasm memory.
  const item = `${'{"":'.repeat(12)}0${'}'.repeat(12)}`;
  const copy = (space) => `{"kid":"a",${space}"x":[${Array(3_400).fill(item).join(',')}]}`;
  const body = `{"keys":[${copy('')},${copy(' ')}]}`;
  assert.ok(body.length < 512 * 1024);
  const cache = createJwksCache({ fetch: fakeFetch(() => new Response(body)) });
  const before = memory.buffer.byteLength;
  assert.equal((await cache.getKey('https://issuer.test/jwks', 'a')).kid, 'a');
  const grew = memory.buffer.byteLength - before;
  assert.ok(grew <= 4 * 1024 * 1024, `wasm memory grew by ${grew} bytes for a ${body.length}-byte body`);
});
