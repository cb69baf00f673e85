// verify as an attacker or a careless caller meets it, beyond verify.test.js and
// verify-attacks.test.js: options whose lists run code inside the wasm core, verifyToken's reading
// of its options, currentDate values that are not plain Dates, a key import that fails once, what a
// remembered token costs in wasm memory; and, holding, the verified-token cache across clear(),
// rotations during a verification, concurrency at expiry and two caches, and failing paths that
// leave nothing behind.
//
// Tests that can leave the wasm instance unusable, or that measure its memory from a known start,
// run in a fresh Node process (inFreshProcess) so that they cannot disturb the others.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { createJwksCache, verifyToken, JwtError, JwksArgumentError } from 'jwks-cache';
import { initSync } from '../../node_modules/jwks-cache/wasm/jwks_cache.js';
import { installSignatures } from '../../node_modules/jwks-cache/signatures.js';
import { nodeSignatures } from '../../node_modules/jwks-cache/signatures-node.js';
import { subtleSignatures } from '../../node_modules/jwks-cache/signatures-subtle.js';
import { startJwksServer } from '../support/jwks-server.js';
import { makeSigner, nowSec } from '../support/signer.js';

// The package has loaded its wasm: this hands back its exports (memory included).
const { memory } = initSync({ module: new Uint8Array() });

let issuer;
const es256 = makeSigner('ES256', { kid: 'es' });
const eddsa = makeSigner('EdDSA', { kid: 'ed' });

before(async () => {
  issuer = await startJwksServer();
});
after(async () => {
  installSignatures(nodeSignatures);
  await issuer.close();
});
beforeEach(() => {
  issuer.setKeys([es256.jwk, eddsa.jwk]);
  issuer.behave('ok');
  issuer.resetCounts();
  installSignatures(nodeSignatures);
});

const claims = (extra = {}) => ({ sub: 'alice', iss: 'https://issuer.example', aud: 'api', exp: nowSec() + 600, ...extra });
const code = (promise) => promise.then(() => 'verified', (error) => error?.code ?? `uncoded ${error?.constructor?.name}: ${error?.message}`);
const options = (extra = {}) => ({ jwksUri: issuer.jwksUri, ...extra });

/** An array whose one entry is an accessor that throws: reading it runs the caller's code. */
const throwingList = () => {
  const list = ['ES256'];
  Object.defineProperty(list, 0, {
    get() {
      throw new Error('a getter of the caller');
    },
  });
  return list;
};
/** A revoked Proxy: even Array.isArray throws on it. */
const revokedProxy = () => {
  const { proxy, revoke } = Proxy.revocable([], {});
  revoke();
  return proxy;
};

const execFileAsync = promisify(execFile);
const MODULES = {
  pkg: import.meta.resolve('jwks-cache'),
  glue: new URL('../../node_modules/jwks-cache/wasm/jwks_cache.js', import.meta.url).href,
  server: new URL('../support/jwks-server.js', import.meta.url).href,
  signer: new URL('../support/signer.js', import.meta.url).href,
};

/**
 * Runs `body` (the text of an async function body) in a fresh Node process with the package, its
 * wasm `memory`, a real `issuer` of its own, `makeSigner` and `nowSec` in scope; returns what the
 * body returns (as JSON).
 */
async function inFreshProcess(body) {
  const script = `
    import * as pkg from ${JSON.stringify(MODULES.pkg)};
    import { initSync } from ${JSON.stringify(MODULES.glue)};
    import { startJwksServer } from ${JSON.stringify(MODULES.server)};
    import { makeSigner, nowSec } from ${JSON.stringify(MODULES.signer)};
    const { memory } = initSync({ module: new Uint8Array() });
    const issuer = await startJwksServer();
    try {
      const answer = await (async () => { ${body} })();
      process.stdout.write(JSON.stringify(answer));
    } finally {
      await issuer.close();
    }
  `;
  const { stdout } = await execFileAsync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 });
  return JSON.parse(stdout);
}

// ---------------------------------------------------------------------------------------------
// Findings: these fail against the package as built when they were written.
// ---------------------------------------------------------------------------------------------

test('a list option that runs code and throws (accessor entry, revoked Proxy) is that call\'s ERR_INVALID_OPTION: no core restart, the cached set kept', async () => {
  const cache = createJwksCache();
  const remembered = es256.sign(claims());
  await cache.verify(remembered, options());
  for (const [name, hostile] of [
    ['requiredClaims (remembered token)', { requiredClaims: throwingList() }],
    ['audience (remembered token)', { audience: revokedProxy() }],
    ['algorithms (a new token)', { algorithms: throwingList() }],
    ['issuer (a new token)', { issuer: revokedProxy() }],
  ]) {
    const token = name.includes('new token') ? es256.sign(claims({ name })) : remembered;
    const error = await cache.verify(token, options(hostile)).then(() => null, (thrown) => thrown);
    assert.ok(error instanceof JwksArgumentError, `${name}: ${error?.code} ${error?.message}`);
    assert.equal(error.code, 'ERR_INVALID_OPTION', name);
  }
  const error = await cache.verifyJws(remembered, options({ algorithms: revokedProxy() })).then(() => null, (thrown) => thrown);
  assert.equal(error?.code, 'ERR_INVALID_OPTION', `verifyJws: ${error?.message}`);
  assert.equal(await code(cache.verify(es256.sign(claims()), options())), 'verified');
  assert.equal(issuer.jwksRequests, 1, 'the cached set survived the hostile calls: nothing fetched again');
});

test("one caller's throwing option never fails another caller's verification in flight on the same cache", async () => {
  issuer.behave('slow', 200);
  const cache = createJwksCache();
  const innocent = cache.verify(es256.sign(claims()), options());
  await delay(50);
  // The hostile call reads its token and options while the innocent one waits on the fetch.
  await cache.verify(es256.sign(claims()), options({ algorithms: throwingList() })).catch(() => {});
  assert.equal(await code(innocent), 'verified');
});

test('throwing list options, however many, never leave the wasm instance unusable for the other caches of the process', async () => {
  // ~113 such calls on a remembered token (9 borrowed arguments each), or ~1016 on a new token or
  // a JWS (1 each), used to exhaust the externref slots that an exception unwinding through wasm
  // leaks: after that every call of every cache (and decodeJwt) failed with ERR_JWKS_CORE_FAILURE
  // "table index is out of bounds", for the life of the process.
  const answer = await inFreshProcess(`
    const signer = makeSigner('ES256', { kid: 'k' });
    issuer.setKeys([signer.jwk]);
    const token = signer.sign({ sub: 'a', exp: nowSec() + 600 });
    const jwksUri = issuer.jwksUri;
    const throwing = () => {
      const list = ['ES256'];
      Object.defineProperty(list, 0, { get() { throw new Error('no'); } });
      return list;
    };
    const cache = pkg.createJwksCache();
    for (let i = 0; i < 150; i++) {
      await cache.verify(token, { jwksUri }).catch(() => {});
      await cache.verify(token, { jwksUri, requiredClaims: throwing() }).catch(() => {});
    }
    for (let i = 0; i < 1100; i++) await cache.verifyJws(token, { jwksUri, algorithms: throwing() }).catch(() => {});
    const fresh = pkg.createJwksCache();
    let decoded;
    try { decoded = pkg.decodeJwt(token).payload.sub; } catch (error) { decoded = error.code + ': ' + error.message; }
    return {
      verify: await fresh.verify(token, { jwksUri }).then(() => 'verified', (error) => error.code + ': ' + error.message),
      getKey: await fresh.getKey(jwksUri, 'k').then((jwk) => jwk?.kid, (error) => error.code + ': ' + error.message),
      decoded,
    };
  `);
  assert.deepEqual(answer, { verify: 'verified', getKey: 'k', decoded: 'a' });
});

test('verifyToken checks its options as cache.verify does: a string, array or number is ERR_INVALID_OPTION, and inherited or getter options are read, never dropped', async () => {
  // A token for another audience and issuer: it must never come back verified when the caller
  // asked for audience "api" (or passed something that is not an options object at all).
  const token = es256.sign(claims({ aud: 'other-api', iss: 'https://evil.example' }));
  for (const given of ['api', ['api'], 42, true]) {
    assert.equal(await code(verifyToken(token, issuer.jwksUri, given)), 'ERR_INVALID_OPTION', `options ${JSON.stringify(given)}`);
  }
  class VerifyOptions {
    get audience() {
      return 'api';
    }
  }
  const inherited = Object.create({ audience: 'api', issuer: 'https://issuer.example' });
  for (const [name, given] of [['a getter on a class', new VerifyOptions()], ['inherited members', inherited]]) {
    const viaCache = await code(createJwksCache().verify(token, Object.assign(Object.create(given), { jwksUri: issuer.jwksUri })));
    assert.equal(viaCache, 'ERR_JWT_CLAIM_INVALID', `cache.verify reads ${name}`);
    assert.equal(await code(verifyToken(token, issuer.jwksUri, given)), 'ERR_JWT_CLAIM_INVALID', `verifyToken reads ${name}`);
  }
});

test("an option name verify does not know (jose's subject and maxTokenAge, a misspelled audience) is ERR_INVALID_OPTION, never silently unchecked", async () => {
  // Signed by the issuer, for another subject and audience, issued 30 days ago.
  const token = es256.sign(claims({ sub: 'mallory', aud: 'other', iat: nowSec() - 30 * 86400 }));
  const cache = createJwksCache();
  for (const unknown of [{ subject: 'alice' }, { maxTokenAge: '1h' }, { audiance: 'api' }, { aud: 'api' }]) {
    assert.equal(await code(cache.verify(token, options(unknown))), 'ERR_INVALID_OPTION', JSON.stringify(unknown));
    assert.equal(await code(verifyToken(token, issuer.jwksUri, unknown)), 'ERR_INVALID_OPTION', `verifyToken ${JSON.stringify(unknown)}`);
  }
});

test('a currentDate that is not a real Date (Date.prototype without a date, a Proxy of a Date) is ERR_INVALID_OPTION, never a raw TypeError', async () => {
  const cache = createJwksCache();
  const token = es256.sign(claims());
  const hostile = new Proxy(
    {},
    {
      getPrototypeOf() {
        throw new Error('a trap of the caller');
      },
    },
  );
  for (const [name, currentDate] of [
    ['Object.create(Date.prototype)', Object.create(Date.prototype)],
    ['a Proxy of a Date', new Proxy(new Date(), {})],
    ['a Proxy whose getPrototypeOf throws', hostile],
  ]) {
    const error = await cache.verify(token, options({ currentDate })).then(() => null, (thrown) => thrown);
    assert.ok(error instanceof JwksArgumentError, `${name}: ${error?.constructor?.name} ${error?.message}`);
    assert.equal(error.code, 'ERR_INVALID_OPTION', name);
  }
});

test('a currentDate before 1970 is refused as the option it is (ERR_INVALID_OPTION), not blamed on the clock', async () => {
  const error = await createJwksCache()
    .verify(es256.sign(claims()), options({ currentDate: new Date(-1000) }))
    .then(() => null, (thrown) => thrown);
  assert.equal(error?.code, 'ERR_INVALID_OPTION', error?.message);
});

test('a key import that failed once (crypto.subtle rejecting) is tried again by the next verification, not refused for the life of the set', async () => {
  let failures = 1;
  let imports = 0;
  installSignatures({
    ...subtleSignatures,
    importKey(jwk, alg) {
      imports += 1;
      if (failures-- > 0) return Promise.reject(new Error('a transient failure'));
      return subtleSignatures.importKey(jwk, alg);
    },
  });
  const cache = createJwksCache();
  // Concurrent callers share the failed import: each is told.
  const first = await Promise.all([cache.verify(es256.sign(claims()), options()), cache.verify(es256.sign(claims()), options())].map(code));
  assert.deepEqual(first, ['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWKS_NO_MATCHING_KEY']);
  assert.equal(imports, 1);
  assert.equal(await code(cache.verify(es256.sign(claims()), options())), 'verified', 'the key is imported again');
  assert.equal(issuer.jwksRequests, 1);
});

test('a remembered token costs at most its own size in wasm memory, whatever its claims hold', async () => {
  // A token of 16 KiB whose `aud` is 4000 empty strings: the core used to keep one Rust String
  // per entry (12 bytes each, about 47 KB per token), three times the token, and wasm memory never
  // shrinks: 48 MiB for the default 1000 remembered tokens, past the 4 GiB limit well before the
  // allowed maxVerifiedTokens of 100000.
  const { tokenBytes, grewBytes } = await inFreshProcess(`
    const signer = makeSigner('ES256', { kid: 'k' });
    issuer.setKeys([signer.jwk]);
    const cache = pkg.createJwksCache();
    const exp = nowSec() + 600;
    const aud = Array(4000).fill('');
    const tokens = Array.from({ length: 400 }, (_, n) => signer.sign({ exp, n, aud }));
    await cache.verify(signer.sign({ exp }), { jwksUri: issuer.jwksUri });
    const before = memory.buffer.byteLength;
    for (const token of tokens) await cache.verify(token, { jwksUri: issuer.jwksUri });
    return { tokenBytes: tokens.reduce((sum, token) => sum + token.length, 0), grewBytes: memory.buffer.byteLength - before };
  `);
  assert.ok(grewBytes <= tokenBytes, `400 remembered tokens of ${tokenBytes} bytes in all grew wasm memory by ${grewBytes} bytes`);
});

// ---------------------------------------------------------------------------------------------
// What held: pinned.
// ---------------------------------------------------------------------------------------------

test('clear() while a verification waits on its fetch: that call answers, but the token is not trusted without a set (the next call fetches, and a withdrawn key refuses it)', async () => {
  issuer.behave('slow', 150);
  const cache = createJwksCache();
  const token = es256.sign(claims());
  const pending = cache.verify(token, options());
  await delay(30);
  cache.clear();
  assert.equal(await code(pending), 'verified');
  issuer.behave('ok');
  issuer.setKeys([eddsa.jwk]);
  assert.equal(await code(cache.verify(token, options())), 'ERR_JWKS_NO_MATCHING_KEY');
  assert.equal(issuer.jwksRequests, 2);
});

test('a set replaced while a key import runs (crypto.subtle): the verification that started on the old set may answer, the token is never answered from it again', async () => {
  let open;
  const gate = new Promise((resolve) => (open = resolve));
  installSignatures({
    ...subtleSignatures,
    async importKey(jwk, alg) {
      await gate;
      return subtleSignatures.importKey(jwk, alg);
    },
  });
  let now = Date.now();
  const cache = createJwksCache({ ttlMs: 60_000, now: () => now });
  await cache.getKey(issuer.jwksUri, 'es');
  const token = es256.sign(claims());
  const started = cache.verify(token, options());
  // The es256 key is withdrawn and the set expires; another token brings in the new set.
  issuer.setKeys([eddsa.jwk]);
  now += 61_000;
  const other = cache.verify(eddsa.sign(claims()), options());
  await delay(20);
  open();
  assert.equal(await code(other), 'verified');
  assert.equal(await code(started), 'verified', 'checked against the set it started with');
  assert.equal(await code(cache.verify(token, options())), 'ERR_JWKS_NO_MATCHING_KEY');
  assert.equal(issuer.jwksRequests, 3, 'the first set, the new one, and the one refetch for the kid it lacks');
});

test('concurrent verifications of a remembered token as its set expires and its key is withdrawn share one request, and all refuse it', async () => {
  let now = Date.now();
  const cache = createJwksCache({ ttlMs: 60_000, maxStaleMs: 0, now: () => now });
  const token = es256.sign(claims());
  await cache.verify(token, options());
  issuer.setKeys([eddsa.jwk]);
  issuer.resetCounts();
  now += 61_000;
  const codes = await Promise.all(Array.from({ length: 50 }, () => code(cache.verify(token, options()))));
  assert.deepEqual([...new Set(codes)], ['ERR_JWKS_NO_MATCHING_KEY']);
  assert.equal(issuer.jwksRequests, 1);
});

test('a token remembered by one cache is nothing to another: a set with another key under the same kid refuses it', async () => {
  const impostor = await startJwksServer();
  try {
    const lookalike = makeSigner('ES256', { kid: 'es' });
    impostor.setKeys([lookalike.jwk]);
    const token = es256.sign(claims());
    const first = createJwksCache();
    await first.verify(token, options());
    await first.verify(token, options());
    assert.equal(await code(createJwksCache().verify(token, { jwksUri: impostor.jwksUri })), 'ERR_JWS_SIGNATURE_INVALID');
    assert.equal(await code(first.verify(token, { jwksUri: impostor.jwksUri })), 'ERR_JWS_SIGNATURE_INVALID', 'nor to the same cache for another jwksUri');
    assert.equal(await code(first.verify(token, options())), 'verified');
  } finally {
    await impostor.close();
  }
});

test('failing verifications of 16 KiB claims-heavy tokens, and remembered tokens evicted past the bound, leave wasm memory where it was', async () => {
  const other = makeSigner('ES256', { kid: 'es' });
  const cache = createJwksCache({ maxVerifiedTokens: 5 });
  const exp = nowSec() + 600;
  const aud = Array(4000).fill('');
  const round = async (n) => {
    await cache.verify(other.sign({ exp, n, aud }), options()).catch(() => {}); // forged
    await cache.verify(es256.sign({ exp, n, aud }), options({ audience: 'x' })).catch(() => {}); // claims refused
    await cache.verify(es256.sign({ exp: 1, n, aud }), options()).catch(() => {}); // expired
    await cache.verify(es256.sign({ exp, n, aud }, { header: { kid: `absent-${n}` } }), options()).catch(() => {}); // no key, refetched
    await cache.verify(es256.sign({ exp, n, aud }), options()); // remembered, the oldest evicted
  };
  for (let n = 0; n < 10; n++) await round(n);
  const before = memory.buffer.byteLength;
  for (let n = 10; n < 160; n++) await round(n);
  const grew = memory.buffer.byteLength - before;
  // Leaked, 600 such tokens would take about 28 MB.
  assert.ok(grew <= 1024 * 1024, `wasm memory grew by ${grew} bytes`);
});

test('hostile tokens (not strings, lone surrogates, 16 Ki non-ASCII characters) are ERR_JWT_MALFORMED without a fetch; hostile option values are ERR_INVALID_OPTION, remembered token or not', async () => {
  const cache = createJwksCache();
  const token = es256.sign(claims());
  for (const [name, hostile] of [
    ['a String object', new String(token)],
    ['a Symbol', Symbol(token)],
    ['a BigInt', 10n],
    ['an object with toString', { toString: () => token }],
    ['a lone surrogate appended', `${token}\uD800`],
    ['a lone surrogate in the payload', token.replace('.', '.\uDC00')],
    ['16384 euro signs (48 KiB of UTF-8)', '€'.repeat(16 * 1024)],
  ]) {
    const error = await cache.verify(hostile, options()).then(() => null, (thrown) => thrown);
    assert.ok(error instanceof JwtError, `${name}: ${error?.constructor?.name}`);
    assert.equal(error.code, 'ERR_JWT_MALFORMED', name);
  }
  assert.equal(issuer.jwksRequests, 0);
  for (const remembered of [false, true]) {
    if (remembered) await cache.verify(token, options());
    for (const [name, hostile] of [
      ['typ: a Symbol', { typ: Symbol('JWT') }],
      ['clockToleranceSec: a BigInt', { clockToleranceSec: 1n }],
      ['clockToleranceSec: NaN', { clockToleranceSec: NaN }],
      ['maxTokenAgeSec: Infinity', { maxTokenAgeSec: Infinity }],
      ['audience: a String object', { audience: new String('api') }],
      ['issuer: [a Symbol]', { issuer: [Symbol('iss')] }],
      ['requiredClaims: 101 entries', { requiredClaims: Array(101).fill('sub') }],
      ['requireExp: "false"', { requireExp: 'false' }],
      ['algorithms: a frozen empty array', { algorithms: Object.freeze([]) }],
    ]) {
      assert.equal(await code(cache.verify(token, options(hostile))), 'ERR_INVALID_OPTION', `${name} (remembered: ${remembered})`);
    }
  }
});
