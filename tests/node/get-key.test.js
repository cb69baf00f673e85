// getKey / clear in Node, through the built package, against a real issuer on 127.0.0.1.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import {
  createJwksCache,
  JwksArgumentError,
  JwksCacheError,
  JwksFetchError,
  JwksResponseError,
} from 'jwks-cache';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';

let issuer;
before(async () => {
  issuer = await startJwksServer();
});
after(() => issuer.close());
beforeEach(() => {
  issuer.behave('ok');
  issuer.setKeys([makePublicJwk('EC', 'ec-1'), makePublicJwk('RSA', 'rsa-1'), makePublicJwk('OKP', 'ed-1')]);
  issuer.resetCounts();
});

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

test('returns the served JWK, then answers from the cache', async () => {
  const cache = createJwksCache();
  for (const served of issuer.keys) {
    assert.deepEqual(await cache.getKey(issuer.jwksUri, served.kid), served);
  }
  assert.equal(issuer.jwksRequests, 1);
  assert.equal(await cache.getKey(issuer.jwksUri, 'rsa-1'), await cache.getKey(issuer.jwksUri, 'rsa-1'));
  assert.equal(issuer.jwksRequests, 1);
});

test('an unknown kid fetches the set once more, then answers null', async () => {
  const cache = createJwksCache();
  await cache.getKey(issuer.jwksUri, 'ec-1');
  assert.equal(await cache.getKey(issuer.jwksUri, 'nope'), null);
  assert.equal(issuer.jwksRequests, 2);
  assert.equal(await cache.getKey(issuer.jwksUri, 'nope'), null);
  assert.equal(issuer.jwksRequests, 3, 'spec: every miss fetches again (rate limiting comes with issue 4)');
});

test('a cold lookup of an absent kid fetches only once', async () => {
  const cache = createJwksCache();
  assert.equal(await cache.getKey(issuer.jwksUri, 'nope'), null);
  assert.equal(issuer.jwksRequests, 1, 'the set was fetched during this call: no second fetch');
});

test('key rotation: a new kid is picked up on the first lookup that names it', async () => {
  const cache = createJwksCache();
  await cache.getKey(issuer.jwksUri, 'ec-1');
  const rotated = issuer.rotate();
  const jwk = await cache.getKey(issuer.jwksUri, rotated);
  assert.equal(jwk.kid, rotated);
  assert.deepEqual(jwk, issuer.keys.at(-1));
  assert.equal(await cache.getKey(issuer.jwksUri, 'ec-1'), null, 'the dropped key is gone after the refetch');
  assert.equal(issuer.jwksRequests, 3);
});

for (const [label, options, ttlMs, behave] of [
  ['ttlMs: 10 minutes', { ttlMs: 10 * 60 * 1000 }, 10 * 60 * 1000],
  ['the default TTL, 5 minutes', {}, 5 * 60 * 1000, (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: issuer.keys }))],
  // Without ttlMs, the response's Cache-Control: max-age (the test issuer sends 600 s) is the TTL.
  ['the issuer\'s max-age, 10 minutes', {}, 10 * 60 * 1000],
  ['a max-age of 5 s, raised to the 1 minute minimum', {}, 60 * 1000, (req, res) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=5' }).end(JSON.stringify({ keys: issuer.keys }))],
]) {
  test(`a set is fresh for exactly ${label}, then fetched again (host clock)`, async () => {
    const clock = manualClock();
    if (behave) issuer.behave('respond', behave);
    // maxStaleMs: 0: an expired set is fetched again before it answers (the stale-serving rules
    // are tested in resilience.test.js).
    const cache = createJwksCache({ ...options, maxStaleMs: 0, now: clock.read });
    await cache.getKey(issuer.jwksUri, 'ec-1');
    clock.now += ttlMs - 1;
    await cache.getKey(issuer.jwksUri, 'ec-1');
    assert.equal(issuer.jwksRequests, 1);
    clock.now += 1;
    await cache.getKey(issuer.jwksUri, 'ec-1');
    assert.equal(issuer.jwksRequests, 2);
  });
}

test('a set is cached per URI', async () => {
  const other = await startJwksServer();
  try {
    const cache = createJwksCache();
    assert.equal((await cache.getKey(issuer.jwksUri, 'ec-1')).kid, 'ec-1');
    assert.equal(await cache.getKey(other.jwksUri, 'ec-1'), null);
    assert.equal((await cache.getKey(other.jwksUri, other.kids[0])).kid, other.kids[0]);
    assert.equal(await cache.getKey(issuer.jwksUri, other.kids[0]), null);
    assert.equal(other.jwksRequests, 1);
  } finally {
    await other.close();
  }
});

test('keys without a kid are ignored', async () => {
  const anonymous = makePublicJwk('EC');
  delete anonymous.kid;
  issuer.setKeys([anonymous, { ...makePublicJwk('EC'), kid: '' }, { kty: 'EC', kid: 42 }, 'junk', makePublicJwk('EC', 'named')]);
  const cache = createJwksCache();
  assert.equal((await cache.getKey(issuer.jwksUri, 'named')).kid, 'named');
  assert.equal(await cache.getKey(issuer.jwksUri, '42'), null, 'a numeric kid is not the string "42"');
});

test('1000 concurrent lookups on a cold cache make exactly one request', async () => {
  const cache = createJwksCache();
  issuer.behave('slow', 100);
  const keys = await Promise.all(Array.from({ length: 1000 }, (_, i) => cache.getKey(issuer.jwksUri, ['ec-1', 'rsa-1'][i % 2])));
  assert.equal(issuer.jwksRequests, 1);
  assert.ok(keys.every((jwk, i) => jwk.kid === ['ec-1', 'rsa-1'][i % 2]));
});

test('concurrent lookups of unknown kids on a warm cache share one refetch', async () => {
  const cache = createJwksCache();
  await cache.getKey(issuer.jwksUri, 'ec-1');
  const rotated = issuer.rotate({ keepOld: true });
  issuer.behave('slow', 50);
  const kids = Array.from({ length: 500 }, (_, i) => (i === 0 ? rotated : `unknown-${i}`));
  const answers = await Promise.all(kids.map((kid) => cache.getKey(issuer.jwksUri, kid)));
  assert.equal(issuer.jwksRequests, 2);
  assert.equal(answers[0].kid, rotated);
  assert.ok(answers.slice(1).every((answer) => answer === null));
});

test('expiry under load: one refresh for every caller', async () => {
  const clock = manualClock();
  const cache = createJwksCache({ ttlMs: 1000, maxStaleMs: 0, now: clock.read });
  await cache.getKey(issuer.jwksUri, 'ec-1');
  clock.now += 1000;
  issuer.behave('slow', 50);
  await Promise.all(Array.from({ length: 300 }, () => cache.getKey(issuer.jwksUri, 'ec-1')));
  assert.equal(issuer.jwksRequests, 2);
});

test('the JWK is deeply frozen: a caller cannot corrupt the cache', async () => {
  issuer.setKeys([{ ...makePublicJwk('EC', 'k'), key_ops: ['verify'] }]);
  const cache = createJwksCache();
  const jwk = await cache.getKey(issuer.jwksUri, 'k');
  assert.ok(Object.isFrozen(jwk) && Object.isFrozen(jwk.key_ops));
  assert.throws(() => {
    jwk.x = 'attacker';
  }, TypeError);
  assert.throws(() => jwk.key_ops.push('sign'), TypeError);
  const again = await cache.getKey(issuer.jwksUri, 'k');
  assert.deepEqual(again, issuer.keys[0]);
});

test('argument errors reject with the documented messages and stable codes', async () => {
  const cache = createJwksCache();
  const cases = [
    [[undefined, 'ec-1'], JwksArgumentError, 'ERR_JWKS_URI_MISSING', 'JWKS URI missing'],
    [[null, 'ec-1'], JwksArgumentError, 'ERR_JWKS_URI_MISSING', 'JWKS URI missing'],
    [['', 'ec-1'], JwksArgumentError, 'ERR_JWKS_URI_MISSING', 'JWKS URI missing'],
    [['', undefined], JwksArgumentError, 'ERR_JWKS_URI_MISSING', 'JWKS URI missing'],
    [[issuer.jwksUri, undefined], JwksArgumentError, 'ERR_KID_MISSING', 'Token missing key id'],
    [[issuer.jwksUri, ''], JwksArgumentError, 'ERR_KID_MISSING', 'Token missing key id'],
    [[issuer.jwksUri, 7], JwksArgumentError, 'ERR_KID_INVALID', 'Token key id invalid: it must be a string'],
    [[issuer.jwksUri, 'k'.repeat(1025)], JwksArgumentError, 'ERR_KID_INVALID', 'Token key id invalid: longer than 1024 bytes'],
    [[new URL(issuer.jwksUri), 'ec-1'], JwksArgumentError, 'ERR_JWKS_URI_INVALID', 'JWKS URI invalid: it must be a string'],
    [['file:///etc/passwd', 'ec-1'], JwksArgumentError, 'ERR_JWKS_URI_INVALID', 'JWKS URI invalid: expected an http: or https: URL, got "file:///etc/passwd"'],
    [['/relative/jwks.json', 'ec-1'], JwksArgumentError, 'ERR_JWKS_URI_INVALID', 'JWKS URI invalid: expected an http: or https: URL, got "/relative/jwks.json"'],
  ];
  for (const [args, Class, code, message] of cases) {
    const pending = cache.getKey(...args);
    assert.ok(pending instanceof Promise, 'errors arrive as rejections, never synchronous throws');
    await assert.rejects(pending, (error) => {
      assert.ok(error instanceof Class && error instanceof JwksCacheError && error instanceof Error);
      assert.equal(error.name, Class.name);
      assert.equal(error.code, code);
      assert.equal(error.message, message);
      return true;
    });
  }
  assert.equal(issuer.jwksRequests, 0);
});

test('a non-2xx answer rejects with "Failed to fetch JWKS (<status>)"', async () => {
  // (A 3xx is ERR_JWKS_REDIRECT: see verify-attacks.test.js, B5.)
  for (const status of [500, 404, 429, 400, 418]) {
    issuer.behave('status', status);
    await assert.rejects(createJwksCache().getKey(issuer.jwksUri, 'ec-1'), (error) => {
      assert.ok(error instanceof JwksFetchError);
      assert.equal(error.code, 'ERR_JWKS_HTTP_STATUS');
      assert.equal(error.message, `Failed to fetch JWKS (${status})`);
      assert.equal(error.status, status);
      return true;
    });
  }
});

test('a body that is not JSON rejects with its own error, and every waiting caller gets it', async () => {
  issuer.behave('garbage');
  const cache = createJwksCache();
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => cache.getKey(issuer.jwksUri, 'ec-1')));
  assert.equal(issuer.jwksRequests, 1);
  for (const result of results) {
    assert.equal(result.status, 'rejected');
    assert.ok(result.reason instanceof JwksResponseError);
    assert.equal(result.reason.code, 'ERR_JWKS_INVALID_JSON');
    assert.match(result.reason.message, /^JWKS response is not valid JSON: /);
  }
});

test('an unreachable issuer rejects with ERR_JWKS_NETWORK', async () => {
  const port = await closedPort();
  await assert.rejects(createJwksCache().getKey(`http://127.0.0.1:${port}/jwks`, 'a'), (error) => {
    assert.ok(error instanceof JwksFetchError);
    assert.equal(error.code, 'ERR_JWKS_NETWORK');
    assert.match(error.message, /^Failed to fetch JWKS \(network error: .*ECONNREFUSED/);
    return true;
  });
});

test('a hanging issuer rejects with ERR_JWKS_TIMEOUT after timeoutMs instead of hanging', async () => {
  issuer.behave('hang');
  const cache = createJwksCache({ timeoutMs: 200 });
  const results = await Promise.allSettled([cache.getKey(issuer.jwksUri, 'ec-1'), cache.getKey(issuer.jwksUri, 'rsa-1')]);
  for (const { reason } of results) {
    assert.ok(reason instanceof JwksFetchError);
    assert.equal(reason.code, 'ERR_JWKS_TIMEOUT');
    assert.equal(reason.message, 'Failed to fetch JWKS (no response within 200 ms)');
  }
  assert.equal(issuer.jwksRequests, 1);
});

test('a failed refresh never throws away the good cached set', async () => {
  const clock = manualClock();
  const cache = createJwksCache({ ttlMs: 600_000, maxStaleMs: 60_000, timeoutMs: 200, now: clock.read });
  const good = await cache.getKey(issuer.jwksUri, 'ec-1');
  for (const [mode, value] of [['status', 500], ['garbage'], ['hang'], ['body', '{"keys":{"kid":"ec-1"}}'], ['body', '{"error":"maintenance"}']]) {
    // A refetch window (and any backoff) later each time.
    clock.now += 31_000;
    issuer.behave(mode, value);
    const refetched = cache.getKey(issuer.jwksUri, 'rotated-kid');
    // A body without a keys array is a failed refresh for a cache that has a set.
    if (mode === 'body') await assert.rejects(refetched, { code: 'ERR_JWKS_SET_REFUSED' });
    else await assert.rejects(refetched);
    issuer.behave('ok');
    const before = issuer.jwksRequests;
    assert.equal(await cache.getKey(issuer.jwksUri, 'ec-1'), good, `still cached after ${mode}`);
    assert.equal(issuer.jwksRequests, before, 'answered from the cache');
  }
  // Past the TTL and maxStaleMs a failing refresh is an error (no unbounded stale keys), the set
  // stays for later.
  clock.now += 600_000 + 60_000;
  issuer.behave('status', 503);
  await assert.rejects(cache.getKey(issuer.jwksUri, 'ec-1'), { code: 'ERR_JWKS_HTTP_STATUS', status: 503 });
  issuer.behave('ok');
  // While the failures back off, calls fail at once without asking the issuer; after, it is asked.
  const asked = issuer.jwksRequests;
  await assert.rejects(cache.getKey(issuer.jwksUri, 'ec-1'), { code: 'ERR_JWKS_HTTP_STATUS', status: 503 });
  assert.equal(issuer.jwksRequests, asked);
  clock.now += 30_000;
  assert.deepEqual(await cache.getKey(issuer.jwksUri, 'ec-1'), good);
});

test('clear() empties the whole cache', async () => {
  const cache = createJwksCache();
  await cache.getKey(issuer.jwksUri, 'ec-1');
  cache.clear();
  await cache.getKey(issuer.jwksUri, 'ec-1');
  assert.equal(issuer.jwksRequests, 2);
});

test('clear() during a fetch: its callers get the answer, the cache stays empty', async () => {
  const cache = createJwksCache();
  issuer.behave('slow', 100);
  const pending = cache.getKey(issuer.jwksUri, 'ec-1');
  await new Promise((resolve) => setTimeout(resolve, 20));
  cache.clear();
  assert.equal((await pending).kid, 'ec-1');
  issuer.behave('ok');
  await cache.getKey(issuer.jwksUri, 'ec-1');
  assert.equal(issuer.jwksRequests, 2);
});

test('a kid shared by different keys is an error; a repeated identical key is not', async () => {
  const twin = makePublicJwk('EC', 'twin');
  issuer.setKeys([makePublicJwk('EC', 'dup'), makePublicJwk('EC', 'dup'), twin, { ...twin }, makePublicJwk('EC', 'ok')]);
  const cache = createJwksCache();
  await assert.rejects(cache.getKey(issuer.jwksUri, 'dup'), (error) => {
    assert.ok(error instanceof JwksResponseError);
    assert.equal(error.code, 'ERR_JWKS_AMBIGUOUS_KID');
    assert.equal(error.message, 'JWKS holds several different keys with kid "dup"');
    return true;
  });
  assert.deepEqual(await cache.getKey(issuer.jwksUri, 'twin'), twin);
  assert.equal((await cache.getKey(issuer.jwksUri, 'ok')).kid, 'ok');
  await assert.rejects(cache.getKey(issuer.jwksUri, 'dup'), { code: 'ERR_JWKS_AMBIGUOUS_KID' });
  assert.equal(issuer.jwksRequests, 1, 'an ambiguous kid in a fresh set is not a reason to fetch');
});

test('options are checked when the cache is created', () => {
  for (const options of [{ ttlMs: -1 }, { ttlMs: 1.5 }, { ttlMs: '600000' }, { ttlMs: Infinity }, { timeoutMs: 0 }, { timeoutMs: 600_001 }, { fetch: 'no' }, { now: 1 }, 'ttl']) {
    assert.throws(() => createJwksCache(options), (error) => {
      assert.ok(error instanceof JwksArgumentError);
      assert.equal(error.code, 'ERR_INVALID_OPTION');
      assert.match(error.message, /^Invalid option: /);
      return true;
    }, JSON.stringify(options));
  }
  createJwksCache({ ttlMs: 0, timeoutMs: 600_000 });
  createJwksCache(undefined);
});

test('a custom fetch is used, with a timeout signal, an Accept header, and no HTTP cache', async () => {
  const seen = [];
  const cache = createJwksCache({
    fetch: (input, init) => {
      seen.push([input, init.signal instanceof AbortSignal, init.headers.accept, init.cache]);
      return fetch(input, init);
    },
  });
  assert.equal((await cache.getKey(issuer.jwksUri, 'ec-1')).kid, 'ec-1');
  assert.deepEqual(seen, [[issuer.jwksUri, true, 'application/json', 'no-store']]);
});

test('getKey and clear work detached from the cache object', async () => {
  const { getKey, clear } = createJwksCache();
  assert.equal((await getKey(issuer.jwksUri, 'ed-1')).crv, 'Ed25519');
  clear();
  await getKey(issuer.jwksUri, 'ed-1');
  assert.equal(issuer.jwksRequests, 2);
});

function closedPort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

test('a caller waiting on a fetch that never delivers decides again at its deadline and fetches itself', async () => {
  // What workerd does to a cancelled request's fetch: it never settles, whatever its signal says.
  const clock = manualClock(0);
  let calls = 0;
  const cache = createJwksCache({
    timeoutMs: 2000,
    now: clock.read,
    fetch: (input, init) => (++calls === 1 ? new Promise(() => {}) : fetch(input, init)),
  });
  let leaderSettled = false;
  const leader = cache.getKey(issuer.jwksUri, 'ec-1').finally(() => (leaderSettled = true)).catch((error) => error);

  clock.now = 2995; // the lost fetch's deadline is 2000 + 1000 ms after it started
  const waiter = cache.getKey(issuer.jwksUri, 'ec-1');
  clock.now = 3000;
  assert.deepEqual(await waiter, issuer.keys[0]);
  assert.equal(calls, 2, 'the waiter ran a fetch of its own');
  assert.equal(leaderSettled, false, 'it did not wait for the lost fetch');

  assert.equal((await leader).code, 'ERR_JWKS_TIMEOUT', 'the lost fetch still ends at its own timeout');
  assert.deepEqual(await cache.getKey(issuer.jwksUri, 'ec-1'), issuer.keys[0], 'the late failure did not disturb the cache');
  assert.equal(calls, 2);
});
