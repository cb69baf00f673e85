// getKey and verify in real workerd (Miniflare 4), through the package's `workerd` entry.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { bundleWorker } from '../support/workers-bundle.js';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';
import { ROOMY_JWKS, HUNGRY_JWKS } from '../support/wasm-trap.js';
import { ALGORITHMS, FLIP_POSITIONS, makeVerifySuite } from '../support/verify-cases.js';
import { makeSigner, nowSec } from '../support/signer.js';
import { startOidcIssuer } from '../support/oidc-issuer.js';

let issuer;
let mf;
/** The worker bundled once (tests/support/workers-bundle.js); several tests start their own. */
let bundle;
/** Keys of every algorithm and tokens signed with them in Node (tests/support/verify-cases.js). */
let suite;
/** What workerd wrote to its stdout and stderr (warnings included), as text chunks. */
const runtimeLog = [];

before(async () => {
  issuer = await startJwksServer();
  suite = makeVerifySuite();
  bundle = await bundleWorker(new URL('./worker-app.js', import.meta.url));
  mf = await startWorker('2026-04-01');
});

function startWorker(compatibilityDate) {
  return bundle.start({
    compatibilityDate,
    // Passed through as Miniflare does by default, and kept for the tests to read.
    handleRuntimeStdio(stdout, stderr) {
      stdout.on('data', (chunk) => (runtimeLog.push(String(chunk)), process.stdout.write(chunk)));
      stderr.on('data', (chunk) => (runtimeLog.push(String(chunk)), process.stderr.write(chunk)));
    },
  });
}

after(async () => {
  await mf?.dispose();
  await issuer?.close();
  bundle?.remove();
});

beforeEach(async () => {
  issuer.behave('ok');
  issuer.setKeys([makePublicJwk('EC', 'ec-1'), makePublicJwk('RSA', 'rsa-1')]);
  // No retries unless a test asks: the tests count one request per failure.
  await (await mf.dispatchFetch('http://worker/reset?maxRetries=0')).text();
  issuer.resetCounts();
});

/** `uri: null` leaves the URI out of the call; `worker` is the suite's worker unless given. */
async function getKey(kid, { uri = issuer.jwksUri, signal, worker = mf, waitUntil = false } = {}) {
  const query = new URLSearchParams();
  if (uri !== null) query.set('uri', uri);
  if (kid !== undefined) query.set('kid', kid);
  // getKey(uri, kid, { waitUntil: ctx.waitUntil }): a background refresh outlives the response.
  if (waitUntil) query.set('waitUntil', '1');
  const response = await worker.dispatchFetch(`http://worker/key?${query}`, { signal });
  return response.json();
}

/** What the worker asked its runtime's fetch for since its last reset: [{ url, cache }]. */
async function fetchesOf(worker) {
  return (await worker.dispatchFetch('http://worker/fetches')).json();
}

test('the bundle took the workers entry: the wasm is a separate module, not inlined bytes', () => {
  const files = readdirSync(bundle.dir);
  assert.ok(files.some((f) => f.endsWith('.wasm')), files.join(', '));
});

test('getKey returns the served JWK, frozen, and null for an unknown kid after one refetch', async () => {
  const { jwk, frozen } = await getKey('rsa-1');
  assert.deepEqual(jwk, issuer.keys[1]);
  assert.equal(frozen, true);
  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0]);
  assert.equal(issuer.jwksRequests, 1, 'the second request was served from the isolate cache');
  assert.equal((await getKey('nope')).jwk, null);
  assert.equal(issuer.jwksRequests, 2);
});

for (const slowMs of [0, 300]) {
  test(`50 concurrent requests on a cold cache all succeed (issuer answers in ${slowMs} ms)`, async (t) => {
    if (slowMs) issuer.behave('slow', slowMs);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => getKey(i % 2 ? 'rsa-1' : 'ec-1')));
    for (const [i, answer] of answers.entries()) {
      assert.deepEqual(answer.jwk, issuer.keys[i % 2], JSON.stringify(answer.error));
    }
    t.diagnostic(`JWKS requests for 50 concurrent cold requests (issuer ${slowMs} ms): ${issuer.jwksRequests}`);
    assert.equal(issuer.jwksRequests, 1, 'requests joined the fetch another request started');
  });
}

test('key rotation is picked up on the first request naming the new kid', async () => {
  await getKey('ec-1');
  const rotated = issuer.rotate();
  assert.equal((await getKey(rotated)).jwk.kid, rotated);
  assert.equal(issuer.jwksRequests, 2);
});

test('errors keep their class, code and message; a good set survives a failed refresh', async () => {
  await getKey('ec-1');
  issuer.behave('status', 500);
  assert.deepEqual((await getKey('rotated')).error, {
    name: 'JwksFetchError',
    code: 'ERR_JWKS_HTTP_STATUS',
    message: 'Failed to fetch JWKS (500)',
    status: 500,
    isCacheError: true,
  });
  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0]);
  // While that failure backs off, another miss is answered from the set, without a request.
  assert.equal((await getKey('rotated')).jwk, null);
  assert.equal(issuer.jwksRequests, 2);
  // Past it, the miss refetches (its second slot of the window: the kid was seen missing).
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  issuer.behave('garbage');
  assert.equal((await getKey('rotated')).error.code, 'ERR_JWKS_INVALID_JSON');
  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0], 'the good set stays');
  const missingKid = (await getKey(undefined)).error;
  assert.deepEqual([missingKid.code, missingKid.message], ['ERR_KID_MISSING', 'Token missing key id']);
  const missingUri = (await getKey('ec-1', { uri: null })).error;
  assert.deepEqual([missingUri.code, missingUri.message], ['ERR_JWKS_URI_MISSING', 'JWKS URI missing']);
});

test('a hanging issuer times out instead of hanging the requests', async () => {
  await (await mf.dispatchFetch('http://worker/reset?timeoutMs=300')).text();
  issuer.behave('hang');
  const answers = await Promise.all(Array.from({ length: 5 }, () => getKey('ec-1')));
  for (const { error } of answers) {
    assert.equal(error.code, 'ERR_JWKS_TIMEOUT');
    assert.equal(error.message, 'Failed to fetch JWKS (no response within 300 ms)');
  }
  assert.equal(issuer.jwksRequests, 1);
});

test('the client of the request that started a fetch goes away: no other request is left hanging', { timeout: 15_000 }, async (t) => {
  // In production workerd cancels a request whose client disconnects, and with it the fetch that
  // request started. Callers that joined that fetch must not hang on it: they either get its
  // result or, past its deadline, fetch again themselves. (Miniflare lets the cancelled request's
  // fetch run to its end, so here they get its result: the timeout of the hanging fetch.)
  await (await mf.dispatchFetch('http://worker/reset?timeoutMs=500')).text();
  issuer.behave('hang');
  const client = new AbortController();
  const leader = getKey('ec-1', { signal: client.signal }).catch((error) => error);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const followers = Array.from({ length: 5 }, () => getKey('ec-1'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  client.abort();
  issuer.behave('ok');
  for (const answer of await Promise.all(followers)) {
    if (answer.jwk) assert.deepEqual(answer.jwk, issuer.keys[0]);
    else assert.equal(answer.error.code, 'ERR_JWKS_TIMEOUT', JSON.stringify(answer));
  }
  t.diagnostic(`leader: ${(await leader)?.name}; JWKS requests: ${issuer.jwksRequests}`);
  // Past the backoff of that failure (1 s), the next request fetches and gets the key.
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0], 'the next request gets the key');
});

test('an older compatibility date refuses fetch\'s `cache` member: the key is still served, and the member is left out from then on', async () => {
  // Before the `cache_option_enabled` flag, workerd's fetch rejects `cache: 'no-store'` with
  // "The 'cache' field on 'RequestInitializerDict' is not implemented." (an Error, not a TypeError).
  const old = await startWorker('2024-01-01');
  try {
    const first = await getKey('ec-1', { worker: old });
    assert.equal(first.error, undefined, `the refusal was not recognised: ${JSON.stringify(first.error)}`);
    assert.deepEqual(first.jwk, issuer.keys[0]);
    const rotated = issuer.rotate();
    const second = await getKey(rotated, { worker: old });
    assert.equal(second.error, undefined, JSON.stringify(second.error));
    assert.equal(second.jwk?.kid, rotated);
    assert.equal(issuer.jwksRequests, 2);
    // The first call asked for no-store and was refused before any request went out; its retry
    // and every later request leave the member out.
    assert.deepEqual((await fetchesOf(old)).map((f) => f.cache), ['no-store', null, null]);
  } finally {
    await old.dispose();
  }
});

test("a URI fetch cannot parse, naming 'cache', is ERR_JWKS_URI_INVALID with no request; requests still send no-store", async () => {
  const unparsable = "http://a:b:c/'cache'";
  const refused = (await getKey('ec-1', { uri: unparsable })).error;
  assert.deepEqual([refused?.name, refused?.code, refused?.isCacheError], ['JwksArgumentError', 'ERR_JWKS_URI_INVALID', true], JSON.stringify(refused));
  assert.match(refused.message, /^JWKS URI invalid: /);
  assert.deepEqual(await fetchesOf(mf), [], 'fetch was not called');

  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0]);
  const rotated = issuer.rotate();
  assert.equal((await getKey(rotated)).jwk?.kid, rotated);
  assert.equal(issuer.jwksRequests, 2);
  assert.deepEqual(await fetchesOf(mf), [
    { url: issuer.jwksUri, cache: 'no-store' },
    { url: issuer.jwksUri, cache: 'no-store' },
  ]);
});

test("a fetch failure whose message quotes 'cache' is a network error and leaves no-store on", async () => {
  // A URL that parses, but that workerd's fetch refuses with "Fetch API cannot load: <url>".
  const quoting = "https://'cache'/";
  const failed = (await getKey('ec-1', { uri: quoting })).error;
  assert.deepEqual([failed?.name, failed?.code], ['JwksFetchError', 'ERR_JWKS_NETWORK'], JSON.stringify(failed));
  assert.match(failed.message, /'cache'/, 'the runtime\'s message quotes the URL, so only the exact refusal may match');

  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0]);
  assert.equal(issuer.jwksRequests, 1);
  assert.deepEqual(await fetchesOf(mf), [
    { url: quoting, cache: 'no-store' },
    { url: issuer.jwksUri, cache: 'no-store' },
  ]);
});

test('B5: a redirect from the JWKS endpoint is ERR_JWKS_REDIRECT, and its target is never requested', async () => {
  issuer.behave('respond', (req, res) => res.writeHead(302, { location: `${issuer.origin}/elsewhere/jwks.json` }).end());
  const { error } = await getKey('ec-1');
  assert.deepEqual([error?.name, error?.code, error?.status], ['JwksFetchError', 'ERR_JWKS_REDIRECT', 302], JSON.stringify(error));
  assert.equal(issuer.requestsTo('/elsewhere/jwks.json'), 0);
});

test('B4: a plain-http URI of another host than loopback is ERR_JWKS_URI_INVALID, with no fetch', async () => {
  const { error } = await getKey('ec-1', { uri: 'http://issuer.example/.well-known/jwks.json' });
  assert.deepEqual([error?.name, error?.code], ['JwksArgumentError', 'ERR_JWKS_URI_INVALID'], JSON.stringify(error));
  assert.deepEqual(await fetchesOf(mf), []);
});

test('C3 stale-while-revalidate and stale-if-error in workerd: past the TTL keys are answered at once while one refresh runs, and through an outage', async () => {
  await (await mf.dispatchFetch('http://worker/reset?ttlMs=1000&maxStaleMs=60000&maxRetries=0')).text();
  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0]);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  issuer.behave('slow', 1_000);
  const started = performance.now();
  assert.deepEqual((await getKey('ec-1', { waitUntil: true })).jwk, issuer.keys[0]);
  assert.ok(performance.now() - started < 700, 'answered from the stale set, not after the 1 s refresh');
  // The refresh, handed to ctx.waitUntil, runs to its end after the response.
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  assert.equal(issuer.jwksRequests, 2);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  issuer.behave('status', 500);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual((await getKey('ec-1', { waitUntil: true })).jwk, issuer.keys[0], 'the last good set serves while the issuer fails');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // One refresh fails, and the next waits out its 1 s backoff: not one request per call.
  assert.equal(issuer.jwksRequests, 3, `failing refreshes are spaced out: ${issuer.jwksRequests - 2} after the outage began`);
});

test('retries in workerd: a 503 is tried again within timeoutMs, and the key comes back', async () => {
  await (await mf.dispatchFetch('http://worker/reset?maxRetries=2')).text();
  let failures = 2;
  issuer.behave('respond', (req, res) => {
    if (failures-- > 0) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: issuer.keys }));
  });
  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0]);
  assert.equal(issuer.jwksRequests, 3);
});

test('waitUntil in workerd: verify hands the background refresh of a stale set to ctx.waitUntil, and answers at once', async () => {
  await (await mf.dispatchFetch('http://worker/reset?ttlMs=1000&maxRetries=0')).text();
  issuer.setKeys(suite.jwks);
  const options = { ...suite.options(issuer.jwksUri), waitUntil: true };
  const c = suite.byAlg.ES256;
  assertVerified(await verify(c.valid.token, options), c, 'warm');
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  issuer.behave('slow', 400);
  const before = await (await mf.dispatchFetch('http://worker/waited-until')).json();
  const started = performance.now();
  assertVerified(await verify(c.valid.token, options), c, 'stale');
  assert.ok(performance.now() - started < 350, 'answered from the stale set');
  assert.equal(await (await mf.dispatchFetch('http://worker/waited-until')).json(), before + 1);
  assert.ok(await eventually(() => issuer.jwksRequests === 2), 'the refresh ran to its end');
});

/** Polls until `check()` is truthy, at most `ms`. */
async function eventually(check, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}

test('a trap in the wasm core (memory exhausted) fails every call on its fetches with ERR_JWKS_CORE_FAILURE; the same cache then works again', { timeout: 30_000 }, async (t) => {
  // A worker of its own: its wasm memory stays grown to the limit for the rest of its life.
  const worker = await startWorker('2026-04-01');
  const held = [];
  try {
    issuer.behave('body', ROOMY_JWKS);
    assert.equal((await getKey('ec-1', { worker })).jwk, null);
    const { pagesBefore, pagesAfter } = await (await worker.dispatchFetch('http://worker/exhaust-memory')).json();
    t.diagnostic(`wasm memory grown from ${pagesBefore} to ${pagesAfter} pages (${pagesAfter / 16_384} GiB): workerd in Miniflare grants all of it`);
    assert.ok(pagesAfter > pagesBefore, 'the memory grew');

    // Bystanders: two calls for another URI, one fetching (the issuer holds its answer) and one
    // waiting on that fetch. Then three calls for the issuer's URI, whose set traps the core.
    issuer.behave('respond', (req, res) => {
      if (req.url.includes('bystander')) held.push(res);
      // A moment late, so that all three calls have joined the one fetch.
      else setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(HUNGRY_JWKS), 200);
    });
    const bystanders = Array.from({ length: 2 }, () => getKey('ec-1', { worker, uri: `${issuer.jwksUri}?bystander` }));
    assert.ok(await eventually(() => held.length === 1), 'the bystanders\' fetch reached the issuer');
    const trapped = await Promise.all(Array.from({ length: 3 }, () => getKey('ec-1', { worker })));
    for (const { error } of trapped) {
      assert.deepEqual([error?.name, error?.code, error?.isCacheError], ['JwksCacheError', 'ERR_JWKS_CORE_FAILURE', true], JSON.stringify(error));
      assert.match(error.message, /^JWKS cache core failed and was restarted empty: /);
      assert.equal(error.wasmTrap, true, `the cause is the trap itself: ${error.message}`);
    }
    held.shift().writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: issuer.keys }));
    for (const { error } of await Promise.all(bystanders)) {
      assert.deepEqual([error?.name, error?.code], ['JwksCacheError', 'ERR_JWKS_CORE_FAILURE'], JSON.stringify(error));
      assert.match(error.message, /^JWKS cache core failed and was restarted empty: /);
    }
    assert.equal(issuer.jwksRequests, 3, 'one fetch for ROOMY, one for the bystanders, one for the three trapped calls');

    // The same cache object goes on, with a fresh and empty core.
    issuer.behave('ok');
    const after = await getKey('ec-1', { worker });
    assert.deepEqual(after.jwk, issuer.keys[0], JSON.stringify(after.error));
    assert.equal(issuer.jwksRequests, 4, 'nothing of the failed core was kept');
    assert.equal(await (await worker.dispatchFetch('http://worker/clear')).text(), 'ok', 'clear() does not throw');
    assert.deepEqual((await getKey('rsa-1', { worker })).jwk, issuer.keys[1]);
    assert.equal(issuer.jwksRequests, 5, 'clear() forgot the set');

    // So does a cache created after the trap.
    await (await worker.dispatchFetch('http://worker/reset')).text();
    assert.deepEqual((await getKey('ec-1', { worker })).jwk, issuer.keys[0]);
  } finally {
    for (const res of held) res.destroy();
    await worker.dispose();
  }
});

// ---- verify: tokens signed in Node by the test's keys, checked with workerd's crypto.subtle ----

/**
 * `cache.verify(token, options)` in the worker (a request of its own); `api: 'verifyToken'` calls
 * `verifyToken` instead. `options.currentDate` goes as ms.
 */
async function verify(token, options, { api, worker = mf } = {}) {
  const response = await worker.dispatchFetch('http://worker/verify', { method: 'POST', body: JSON.stringify({ token, options, api }) });
  return response.json();
}

/** crypto.subtle.importKey and verify calls in the worker since its last reset. */
async function cryptoCallsOf(worker) {
  return (await worker.dispatchFetch('http://worker/crypto-calls')).json();
}

function assertVerified(answer, expected, label = '') {
  assert.equal(answer.error, undefined, `${label} ${JSON.stringify(answer.error)}`);
  assert.deepEqual(answer.payload, expected.valid.claims, `${label} payload`);
  assert.deepEqual(answer.protectedHeader, expected.valid.header, `${label} protectedHeader`);
  assert.deepEqual(answer.key, expected.jwk, `${label} key`);
  assert.equal(answer.keyFrozen, true, `${label} key frozen`);
}

function assertRefused(answer, code, message, label = '') {
  const { error } = answer;
  assert.ok(error, `${label} expected ${code}, got ${JSON.stringify(answer)}`);
  assert.deepEqual([error.name, error.code, error.isCacheError], ['JwtError', code, true], `${label} ${JSON.stringify(error)}`);
  if (message instanceof RegExp) assert.match(error.message, message, label);
  else if (message !== undefined) assert.equal(error.message, message, label);
}

const CROSS_REQUEST_WARNING = /different request context/i;

for (const alg of ALGORITHMS) {
  test(`verify ${alg} in workerd: a valid token verifies (also repeated, from the verified-token cache; a wrong audience on the repeat is refused), a flipped signature byte is ERR_JWS_SIGNATURE_INVALID, an expired token ERR_JWT_EXPIRED`, async () => {
    issuer.setKeys(suite.jwks);
    const c = suite.byAlg[alg];
    const options = suite.options(issuer.jwksUri);

    assertVerified(await verify(c.valid.token, options), c, 'first');
    assert.deepEqual(await cryptoCallsOf(mf), { importKey: 1, verify: 1 }, 'one import, one signature check');

    // The same token again, from another request: remembered, so no signature check; its
    // claims are still checked against each call's options.
    assertVerified(await verify(c.valid.token, options), c, 'repeat');
    assert.deepEqual(await cryptoCallsOf(mf), { importKey: 1, verify: 1 }, 'the repeat was answered from the verified-token cache');
    assertRefused(
      await verify(c.valid.token, { ...options, audience: 'api://someone-else' }),
      'ERR_JWT_CLAIM_INVALID',
      'JWT claim invalid: "aud" names none of the accepted audiences',
      'wrong audience on the repeat',
    );
    assertVerified(await verify(c.valid.token, options), c, 'repeat after the refusal');

    for (const position of FLIP_POSITIONS) {
      assertRefused(
        await verify(c.flipped[position], options),
        'ERR_JWS_SIGNATURE_INVALID',
        `JWS signature invalid: it does not verify as ${alg} with the selected key`,
        `${position} signature byte flipped`,
      );
    }
    assertRefused(await verify(c.expired, options), 'ERR_JWT_EXPIRED', 'JWT expired: "exp" has passed', 'expired');
    // Its signature is good: at a time within its validity (currentDate) it verifies.
    const earlier = await verify(c.expired, { ...options, currentDate: (c.expiredClaims.exp - 60) * 1000 });
    assert.equal(earlier.error, undefined, JSON.stringify(earlier.error));
    assert.deepEqual(earlier.payload, c.expiredClaims);
    assert.deepEqual(await cryptoCallsOf(mf), { importKey: 1, verify: 1 + FLIP_POSITIONS.length + 2 }, 'each new token checked once; the key imported once');
    assert.equal(issuer.jwksRequests, 1);
  });
}

test('a runtime whose WebCrypto lacked P-521 (simulated: importKey rejects with NotSupportedError): ES512 is ERR_JWKS_NO_MATCHING_KEY, not a crash; other algorithms still verify', async () => {
  // workerd has P-521 (the ES512 test above): this shows what the package would do without it.
  await (await mf.dispatchFetch('http://worker/reset?refuseCurve=P-521')).text();
  issuer.setKeys(suite.jwks);
  const options = suite.options(issuer.jwksUri);
  const es512 = suite.byAlg.ES512;
  for (const label of ['first', 'again']) {
    assertRefused(
      await verify(es512.valid.token, options),
      'ERR_JWKS_NO_MATCHING_KEY',
      `No matching key in the JWKS: the key with kid "${es512.signer.kid}" for ES512 was refused by the host's crypto`,
      label,
    );
  }
  assert.equal((await cryptoCallsOf(mf)).importKey, 2, 'an asynchronous refusal may pass: each verification tries the import again');
  assertVerified(await verify(suite.byAlg.ES256.valid.token, options), suite.byAlg.ES256, 'ES256');
  assertVerified(await verify(suite.byAlg.ES384.valid.token, options), suite.byAlg.ES384, 'ES384');
  assert.equal(issuer.jwksRequests, 1);
});

test('alg none and HS256 are refused (ERR_JWS_ALG_NOT_ALLOWED) without a JWKS request or any crypto', async () => {
  issuer.setKeys(suite.jwks);
  const options = suite.options(issuer.jwksUri);
  const { noneUnsecured, noneSigned, hs256, hs256KeyConfusion } = suite.refusedAlgorithms;
  for (const [label, token, alg] of [
    ['none with a signature segment', noneSigned, 'none'],
    ['HS256', hs256, 'HS256'],
    ['HS256 keyed with the served public JWK', hs256KeyConfusion, 'HS256'],
  ]) {
    assertRefused(await verify(token, options), 'ERR_JWS_ALG_NOT_ALLOWED', `JWS algorithm not allowed: "${alg}"`, label);
  }
  // The Unsecured JWS of RFC 7519 6.1 (alg none, empty signature): its alg is refused first.
  assertRefused(await verify(noneUnsecured, options), 'ERR_JWS_ALG_NOT_ALLOWED', 'JWS algorithm not allowed: "none"', 'unsecured (empty signature)');
  // A caller cannot allow them either.
  for (const alg of ['none', 'HS256']) {
    const answer = await verify(hs256, { ...options, algorithms: [alg] });
    assert.deepEqual([answer.error?.name, answer.error?.code], ['JwksArgumentError', 'ERR_INVALID_OPTION'], JSON.stringify(answer));
  }
  assert.equal(issuer.jwksRequests, 0);
  assert.deepEqual(await fetchesOf(mf), [], 'fetch was not called');
  assert.deepEqual(await cryptoCallsOf(mf), { importKey: 0, verify: 0 });
});

test('verifyToken (the package\'s shared cache): a token verifies, verifies again, and is refused on a repeat with a wrong audience', async () => {
  issuer.setKeys(suite.jwks);
  // A URI of its own: the shared cache outlives the suite's resets.
  const jwksUri = `${issuer.jwksUri}?verifyToken`;
  const { issuer: iss, audience } = suite.options(jwksUri);
  const c = suite.byAlg.PS256;
  assertVerified(await verify(c.valid.token, { jwksUri, issuer: iss, audience }, { api: 'verifyToken' }), c, 'first');
  assertVerified(await verify(c.valid.token, { jwksUri, issuer: iss, audience }, { api: 'verifyToken' }), c, 'repeat');
  assertRefused(
    await verify(c.valid.token, { jwksUri, issuer: iss, audience: 'api://someone-else' }, { api: 'verifyToken' }),
    'ERR_JWT_CLAIM_INVALID',
    /"aud"/,
  );
  assertRefused(await verify(c.flipped.middle, { jwksUri, audience }, { api: 'verifyToken' }), 'ERR_JWS_SIGNATURE_INVALID');
  assert.equal(issuer.jwksRequests, 1);
});

for (const slowMs of [0, 300]) {
  test(`verify from 50 concurrent requests (each its own I/O context) on the module-level cold cache: one JWKS request, one import per key (issuer answers in ${slowMs} ms)`, async (t) => {
    issuer.setKeys(suite.jwks);
    if (slowMs) issuer.behave('slow', slowMs);
    const options = suite.options(issuer.jwksUri);
    const logBefore = runtimeLog.length;
    // Per algorithm: its valid token three times, a forged one and an expired one, all at once.
    const calls = suite.cases.flatMap((c) => [
      [c, 'valid', c.valid.token],
      [c, 'forged', c.flipped.middle],
      [c, 'valid', c.valid.token],
      [c, 'expired', c.expired],
      [c, 'valid', c.valid.token],
    ]);
    const answers = await Promise.all(calls.map(([, , token]) => verify(token, options)));
    for (const [i, [c, kind]] of calls.entries()) {
      const label = `#${i} ${c.alg} ${kind}`;
      if (kind === 'valid') assertVerified(answers[i], c, label);
      if (kind === 'forged') assertRefused(answers[i], 'ERR_JWS_SIGNATURE_INVALID', undefined, label);
      if (kind === 'expired') assertRefused(answers[i], 'ERR_JWT_EXPIRED', undefined, label);
    }
    assert.equal(issuer.jwksRequests, 1, 'the requests joined the one fetch');
    const work = await cryptoCallsOf(mf);
    t.diagnostic(`crypto.subtle calls for 50 concurrent verifications of 30 distinct tokens (issuer ${slowMs} ms): ${JSON.stringify(work)}`);
    assert.equal(work.importKey, ALGORITHMS.length, 'each key imported once, the import shared by the requests that needed it');
    assert.ok(work.verify >= 3 * ALGORITHMS.length && work.verify <= calls.length, `signature checks: ${work.verify}`);

    // Afterwards every token is still answered right, from the warm cache.
    for (const c of suite.cases) assertVerified(await verify(c.valid.token, options), c, `${c.alg} after`);
    assert.equal(issuer.jwksRequests, 1);
    await new Promise((resolve) => setTimeout(resolve, 200)); // workerd's warnings may lag
    const warnings = runtimeLog.slice(logBefore).filter((text) => CROSS_REQUEST_WARNING.test(text));
    assert.deepEqual(warnings, [], 'workerd logged no cross-request promise warnings');
  });
}

test('verify when the wasm memory is exhausted: never a raw RuntimeError, and the same cache goes on', { timeout: 60_000 }, async (t) => {
  // A worker of its own: its wasm memory stays grown to the limit for the rest of its life.
  const worker = await startWorker('2026-04-01');
  try {
    issuer.setKeys(suite.jwks);
    const c = suite.byAlg.ES256;
    const options = { jwksUri: issuer.jwksUri };
    assertVerified(await verify(c.valid.token, suite.options(issuer.jwksUri), { worker }), c, 'before');
    const { pagesAfter } = await (await worker.dispatchFetch('http://worker/exhaust-memory')).json();
    t.diagnostic(`wasm memory grown to ${pagesAfter} pages`);
    // Distinct large tokens, each remembered by the verified-token cache (default 1000 entries),
    // until the allocator has no room left.
    let failure;
    let count = 0;
    for (; count < 1000 && failure === undefined; count += 1) {
      const answer = await verify(c.signer.sign({ exp: Math.floor(Date.now() / 1000) + 600, i: count, pad: 'x'.repeat(11_000) }), options, { worker });
      failure = answer.error;
    }
    t.diagnostic(`first failure after ${count} tokens: ${JSON.stringify(failure)}`);
    if (failure !== undefined) {
      assert.deepEqual([failure.name, failure.code, failure.isCacheError], ['JwksCacheError', 'ERR_JWKS_CORE_FAILURE', true], JSON.stringify(failure));
    }
    assertVerified(await verify(c.valid.token, suite.options(issuer.jwksUri), { worker }), c, 'after');
  } finally {
    await worker.dispose();
  }
});

test('the inspection API in workerd: inspectToken, loadKeySet by URI and by OpenID discovery, matchKey, explainError', async () => {
  const signer = makeSigner('ES256', { kid: 'inspect-1' });
  issuer.setKeys([signer.jwk, { kty: 'oct', kid: 'shared', k: 'c2VjcmV0' }]);
  const inspect = async (body) => {
    const response = await mf.dispatchFetch('http://worker/inspect', { method: 'POST', body: JSON.stringify(body) });
    return { status: response.status, ...(await response.json()) };
  };
  const token = signer.sign({ sub: 'alice', exp: nowSec() + 240 });
  const byUri = await inspect({ token, jwksUri: issuer.jwksUri });
  assert.equal(byUri.status, 200, JSON.stringify(byUri));
  assert.deepEqual(byUri.inspected.times.map((t) => t.text), ['expires in 4 min']);
  assert.deepEqual(byUri.inspected.findings.map((f) => f.code), ['ISS_MISSING']);
  assert.deepEqual(byUri.keySet.entries.map((e) => [e.kid, e.algorithms, e.ignored]), [['inspect-1', ['ES256'], null], ['shared', [], 'a shared secret, never used from a published set']]);
  assert.equal(byUri.match.kid, 'inspect-1');
  assert.equal(byUri.payload.sub, 'alice');
  assert.equal(issuer.jwksRequests, 1, 'the set is described and verifies with one request');

  const op = await startOidcIssuer();
  try {
    const byDiscovery = await inspect({ token: await op.getToken(), issuer: op.issuer });
    assert.equal(byDiscovery.status, 200, JSON.stringify(byDiscovery));
    assert.equal(byDiscovery.jwksUri, op.jwksUri);
    assert.equal(byDiscovery.match.kid, op.kids[0]);
  } finally {
    await op.close();
  }

  issuer.behave('status', 503);
  const down = await inspect({ token, jwksUri: issuer.jwksUri });
  assert.equal(down.status, 500);
  assert.deepEqual([down.error.code, down.error.status, down.uri], ['ERR_JWKS_HTTP_STATUS', 503, issuer.jwksUri]);
  assert.match(down.fix, /did not answer 2xx/);
  const malformed = await inspect({ token: 'not a token', jwksUri: issuer.jwksUri });
  assert.deepEqual([malformed.status, malformed.error.code, malformed.error.name], [500, 'ERR_JWT_MALFORMED', 'JwtError']);
});
