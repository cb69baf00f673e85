// Staying up when the issuer does not, and never hammering it (README "Resilience"), in real
// workerd (Miniflare 4) through the package's `workerd` entry: stale-if-error through minutes of
// outage then failing closed, failure backoff, retries after Retry-After, timeouts, bounded and
// endless bodies, redirects, rotations, floods of unknown kids, a herd during a background
// refresh, and maxEntries. Against the fault-injecting issuer on 127.0.0.1; the worker's cache
// runs on a simulated clock (real time plus an offset that /clock moves forward), so that TTLs,
// backoffs and stale windows pass in a moment while fetches and timeouts run in real time.
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startBundledWorker } from '../support/workers-bundle.js';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';

let issuer;
/** A second issuer, on another origin: the target of redirects. */
let elsewhere;
let mf;
/** Responses a test's issuer left open (endless bodies): closed after each test. */
const leftOpen = new Set();

before(async () => {
  [issuer, elsewhere] = await Promise.all([startJwksServer(), startJwksServer()]);
  mf = await startBundledWorker(new URL('./worker-app.js', import.meta.url), { compatibilityDate: '2026-04-01' });
});

after(async () => {
  await mf?.dispose();
  await Promise.all([issuer?.close(), elsewhere?.close()]);
});

beforeEach(async () => {
  issuer.behave('ok');
  issuer.setKeys([makePublicJwk('EC', 'k1'), makePublicJwk('EC', 'k2')]);
  elsewhere.behave('ok');
  await reset();
  issuer.resetCounts();
  elsewhere.resetCounts();
});

afterEach(() => {
  for (const res of leftOpen) res.destroy();
  leftOpen.clear();
});

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** A new cache in the worker with these options; no retries unless asked. The clock is real time again. */
async function reset(options = {}) {
  const query = new URLSearchParams({ maxRetries: '0', ...options });
  assert.equal(await (await mf.dispatchFetch(`http://worker/reset?${query}`)).text(), 'ok');
}

/**
 * getKey in the worker, as a request of its own: `{ jwk, error, ms }` (ms: the time the request
 * took, seen from here). Its background refresh, if any, goes to that request's ctx.waitUntil, as
 * in production (without it workerd cancels the refresh with the response: see the last test).
 */
async function getKey(kid, { uri = issuer.jwksUri, waitUntil = true } = {}) {
  const query = new URLSearchParams({ uri, kid });
  if (waitUntil) query.set('waitUntil', '1');
  const started = performance.now();
  const answer = await (await mf.dispatchFetch(`http://worker/key?${query}`)).json();
  return { ...answer, ms: performance.now() - started };
}

/** Moves the worker's simulated clock `ms` ahead; resolves to the cache's time after the move. */
async function advance(ms) {
  return (await (await mf.dispatchFetch(`http://worker/clock?advance=${ms}`)).json()).now;
}

/** cache.status(uri) in the worker, or null. */
async function statusOf(uri = issuer.jwksUri) {
  return (await mf.dispatchFetch(`http://worker/status?${new URLSearchParams({ uri })}`)).json();
}

/** Polls until `check()` resolves truthy, at most `ms`. */
async function eventually(check, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const jsonHeaders = { 'content-type': 'application/json' };

/**
 * An issuer behaviour (`handler`, for behave('respond', ...)): a 200 whose body starts with
 * `first`, then `chunk` every `everyMs` ms, `count` times (Infinity: never ending; no chunk: nothing
 * more, the response left open), then `last`. `record` tells how many bytes went out and whether
 * the client closed the connection before the end.
 */
function streaming({ first = '', chunk, everyMs, count = Infinity, last = '' }) {
  const record = { written: 0, cut: false };
  const handler = (req, res) => {
    leftOpen.add(res);
    res.writeHead(200, jsonHeaders);
    res.write(first);
    record.written += first.length;
    let sent = 0;
    const timer = chunk === undefined ? undefined : setInterval(() => {
      if (sent === count) {
        clearInterval(timer);
        res.end(last);
        return;
      }
      sent += 1;
      res.write(chunk);
      record.written += chunk.length;
    }, everyMs);
    res.on('close', () => {
      clearInterval(timer);
      leftOpen.delete(res);
      if (!res.writableFinished) record.cut = true;
    });
  };
  return { handler, record };
}

// ---- 1. stale-if-error through minutes of outage, backoff, then failing closed ----

const OUTAGES = [
  { outage: '500', behave: ['status', 500], code: 'ERR_JWKS_HTTP_STATUS', message: /^Failed to fetch JWKS \(500\)$/ },
  { outage: 'garbage', behave: ['garbage'], code: 'ERR_JWKS_INVALID_JSON', message: /^JWKS response is not valid JSON: / },
  { outage: 'hang', behave: ['hang'], code: 'ERR_JWKS_TIMEOUT', message: /^Failed to fetch JWKS \(no response within 500 ms\)$/ },
  // An empty set over one that holds keys is far more often a broken deployment than a
  // revocation: refused as a failed refresh.
  { outage: 'an empty {"keys":[]}', behave: ['body', '{"keys":[]}'], code: 'ERR_JWKS_SET_REFUSED', message: /^JWKS response refused, the cached keys kept: its "keys" array is empty$/ },
];

for (const { outage, behave, code, message } of OUTAGES) {
  test(`stale-if-error in workerd (issuer: ${outage}): 5 minutes of outage past the TTL answered from the stale set at once, refreshes backing off 1, 2, 4, 8, 16, then 30 s apart; past maxStaleMs it fails closed with ${code}`, { timeout: 60_000 }, async (t) => {
    const timeoutMs = 500;
    await reset({ ttlMs: MINUTE, maxStaleMs: 5 * MINUTE, timeoutMs });
    const k1 = (await getKey('k1')).jwk;
    assert.equal(k1.kid, 'k1');
    const { freshUntil, usableUntil } = await statusOf();
    assert.equal(usableUntil - freshUntil, 5 * MINUTE);
    issuer.behave(...behave);

    // To the end of the TTL, then through the stale window a second at a time, one lookup a step.
    await advance(freshUntil - (await advance(0)) - SECOND);
    const refreshedAt = []; // the cache's time of the steps whose lookup started a refresh
    let lookups = 0;
    let slowest = 0;
    let now;
    // (A step after a hanging refresh comes timeoutMs later in real time too: stop short.)
    while ((await advance(0)) < usableUntil - 2 * SECOND) {
      now = await advance(SECOND);
      const before = issuer.jwksRequests;
      const { jwk, error, ms } = await getKey('k1');
      lookups += 1;
      slowest = Math.max(slowest, ms);
      assert.deepEqual(jwk, k1, `answered from the stale set at +${now - freshUntil} ms: ${JSON.stringify(error)}`);
      if (issuer.jwksRequests === before) continue;
      assert.equal(issuer.jwksRequests, before + 1, 'one refresh at a time');
      refreshedAt.push(now);
      // The lookup that started the refresh did not wait for it: against a hanging issuer, the
      // refresh is still running (for timeoutMs) when its answer is in.
      if (outage === 'hang') assert.equal((await statusOf()).fetching, true, `the answer (in ${Math.round(ms)} ms) came while the refresh was still waiting on the issuer`);
      // The refresh runs in the background (ctx.waitUntil): its failure is recorded when it ends.
      assert.ok(await eventually(async () => (await statusOf()).failures === refreshedAt.length), 'the refresh failed and was recorded');
      const status = await statusOf();
      assert.equal(status.lastError.code, code);
      assert.match(status.lastError.message, message);
      assert.equal(status.kids, 2, 'the good set stays');
    }
    // Each failure doubles the wait before the next refresh, up to refetchCooldownMs (30 s). A
    // refresh starts at the first step (1 s apart) at or past the wait, which starts when the
    // failure is recorded (for a hang, timeoutMs after the request).
    const intervals = refreshedAt.slice(1).map((at, i) => at - refreshedAt[i]);
    t.diagnostic(`${lookups} lookups in ${Math.round((now - freshUntil) / SECOND)} s of outage (the slowest answered in ${Math.round(slowest)} ms), ${refreshedAt.length} refreshes, intervals (ms): ${intervals.join(', ')}`);
    assert.ok(refreshedAt.length >= 10 && refreshedAt.length <= 16, `${refreshedAt.length} refreshes`);
    for (const [i, interval] of intervals.entries()) {
      const wait = Math.min(SECOND * 2 ** i, 30 * SECOND);
      assert.ok(interval >= wait && interval <= wait + SECOND + timeoutMs + 500, `refresh ${i + 2} came ${interval} ms after the one before, expected ${wait} ms or a step more`);
    }
    assert.ok(intervals.slice(5).every((interval) => interval >= 30 * SECOND), 'the waits stop growing at the cooldown window');

    // Past usableUntil (and past the current backoff), the set is no longer served: the lookup
    // fetches, and fails with this outage's error.
    const { retryAt } = await statusOf();
    await advance(Math.max(usableUntil, retryAt) + 10 - (await advance(0)));
    const requests = issuer.jwksRequests;
    const closed = await getKey('k1');
    assert.equal(closed.jwk, undefined, 'not served past maxStaleMs');
    assert.equal(closed.error?.code, code, JSON.stringify(closed.error));
    assert.match(closed.error.message, message);
    assert.equal(issuer.jwksRequests, requests + 1);
    if (outage === 'hang') assert.ok(closed.ms >= timeoutMs - 50, `the lookup waited for its own fetch's timeout (${Math.round(closed.ms)} ms)`);
    // Within that failure's backoff, at once and without a request.
    const again = await getKey('k2');
    assert.equal(again.error?.code, code, JSON.stringify(again.error));
    assert.ok(again.ms < timeoutMs, `at once (${Math.round(again.ms)} ms)`);
    assert.equal(issuer.jwksRequests, requests + 1);

    // The issuer recovers: past the backoff, the set is fetched again.
    issuer.behave('ok');
    await advance(31 * SECOND);
    assert.deepEqual((await getKey('k1')).jwk, k1);
    assert.equal(issuer.jwksRequests, requests + 2);
    assert.equal((await statusOf()).fresh, true);
  });
}

test('an empty {"keys":[]} on a cold cache is the answer there is: the kid is not found (null), and the empty set is cached', async () => {
  issuer.behave('body', '{"keys":[]}');
  const { jwk, error } = await getKey('k1');
  assert.equal(error, undefined, JSON.stringify(error));
  assert.equal(jwk, null);
  assert.equal(issuer.jwksRequests, 1);
  const status = await statusOf();
  assert.deepEqual([status.kids, status.fresh, status.lastError], [0, true, undefined]);
});

// ---- 2. retries after Retry-After ----

test('a 429 with Retry-After: 1 (maxRetries 2, timeoutMs 3000) is tried again once, about 1 s later, and the key comes back', async () => {
  await reset({ maxRetries: 2, timeoutMs: 3_000 });
  const seen = [];
  issuer.behave('respond', (req, res) => {
    seen.push(performance.now());
    if (seen.length === 1) return void res.writeHead(429, { 'retry-after': '1' }).end();
    res.writeHead(200, jsonHeaders).end(JSON.stringify({ keys: issuer.keys }));
  });
  const { jwk, error } = await getKey('k1');
  assert.deepEqual(jwk, issuer.keys[0], JSON.stringify(error));
  assert.equal(issuer.jwksRequests, 2);
  const gap = seen[1] - seen[0];
  assert.ok(gap >= 950 && gap < 2_000, `the retry came ${Math.round(gap)} ms after the 429`);
});

test('a 429 whose Retry-After the timeout cannot leave room for is not retried: it fails at once (ERR_JWKS_HTTP_STATUS, status 429), one request', async () => {
  // 30 s: past the 3 s timeout. 2 s: within it, but leaving less than the 250 ms an attempt needs.
  for (const [retryAfter, timeoutMs] of [['30', 3_000], ['2', 2_100]]) {
    await reset({ maxRetries: 2, timeoutMs });
    issuer.resetCounts();
    issuer.behave('respond', (req, res) => res.writeHead(429, { 'retry-after': retryAfter }).end());
    const { error, ms } = await getKey('k1');
    assert.deepEqual([error?.name, error?.code, error?.status], ['JwksFetchError', 'ERR_JWKS_HTTP_STATUS', 429], JSON.stringify(error));
    assert.ok(ms < 1_000, `failed at once (${Math.round(ms)} ms), not after waiting ${retryAfter} s`);
    await sleep(300);
    assert.equal(issuer.jwksRequests, 1, `Retry-After: ${retryAfter} with timeoutMs ${timeoutMs}: no retry`);
  }
});

test('a 429 every time with Retry-After: 1: maxRetries (2) retries, each after its wait, then ERR_JWKS_HTTP_STATUS', async () => {
  await reset({ maxRetries: 2, timeoutMs: 4_000 });
  const seen = [];
  issuer.behave('respond', (req, res) => {
    seen.push(performance.now());
    res.writeHead(429, { 'retry-after': '1' }).end();
  });
  const { error } = await getKey('k1');
  assert.deepEqual([error?.code, error?.status], ['ERR_JWKS_HTTP_STATUS', 429], JSON.stringify(error));
  assert.equal(issuer.jwksRequests, 3);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] - seen[i - 1] >= 950, `retry ${i} after ${Math.round(seen[i] - seen[i - 1])} ms`);
});

// ---- 3. slow and hanging issuers ----

test('a slow issuer within timeoutMs: the key comes back, whether the headers or the body are slow', async () => {
  await reset({ timeoutMs: 2_000 });
  issuer.behave('slow', 700);
  const slowHeaders = await getKey('k1');
  assert.deepEqual(slowHeaders.jwk, issuer.keys[0], JSON.stringify(slowHeaders.error));
  assert.ok(slowHeaders.ms >= 650, `it waited for the issuer (${Math.round(slowHeaders.ms)} ms)`);
  assert.equal(issuer.jwksRequests, 1);

  // Headers at once, then the body in pieces of 60 bytes over 700 ms.
  await reset({ timeoutMs: 2_000 });
  const pieces = JSON.stringify({ keys: issuer.keys }).match(/[^]{1,60}/g);
  issuer.behave('respond', (req, res) => {
    res.writeHead(200, jsonHeaders);
    pieces.forEach((piece, i) => setTimeout(() => (i === pieces.length - 1 ? res.end(piece) : res.write(piece)), (700 * i) / (pieces.length - 1)));
  });
  const slowBody = await getKey('k2');
  assert.deepEqual(slowBody.jwk, issuer.keys[1], JSON.stringify(slowBody.error));
  assert.ok(slowBody.ms >= 650, `it read the body to its end (${Math.round(slowBody.ms)} ms)`);
  assert.equal(issuer.jwksRequests, 2);
});

test('a hanging issuer on a cold cache: ERR_JWKS_TIMEOUT after timeoutMs for every caller, one request, the connection released; then at once while that failure backs off', async () => {
  await reset({ timeoutMs: 600 });
  // As behave('hang') (no answer at all), but seeing the connection close.
  let closed = 0;
  issuer.behave('respond', (req, res) => {
    leftOpen.add(res);
    res.on('close', () => (closed += 1));
  });
  const answers = await Promise.all(Array.from({ length: 5 }, () => getKey('k1')));
  for (const { error, ms } of answers) {
    assert.deepEqual([error?.name, error?.code, error?.message], ['JwksFetchError', 'ERR_JWKS_TIMEOUT', 'Failed to fetch JWKS (no response within 600 ms)'], JSON.stringify(error));
    assert.ok(ms >= 550 && ms < 600 + 1_500, `answered after the timeout, not hung (${Math.round(ms)} ms)`);
  }
  assert.equal(issuer.jwksRequests, 1);
  assert.ok(await eventually(() => closed === 1), 'the worker aborted the request');
  const { error, ms } = await getKey('k1');
  assert.equal(error?.code, 'ERR_JWKS_TIMEOUT');
  assert.ok(ms < 500, `at once (${Math.round(ms)} ms)`);
  assert.equal(issuer.jwksRequests, 1);
});

// ---- 4. bounded bodies ----

test('an oversized body is read as it streams and cut at maxResponseBytes (ERR_JWKS_RESPONSE_TOO_LARGE); on a refresh the good set is kept', async (t) => {
  await reset({ maxResponseBytes: 4_096, timeoutMs: 4_000 });
  const k1 = (await getKey('k1')).jwk;
  assert.equal(issuer.jwksRequests, 1);
  // A valid-looking start, then 1 KiB of padding every 5 ms: 4 MiB in about 20 s if read to the end.
  const { handler, record } = streaming({ first: '{"keys":[', chunk: ' '.repeat(1_024), everyMs: 5, count: 4_096, last: ']}' });
  issuer.behave('respond', handler);
  const refused = await getKey('rotated-kid');
  assert.deepEqual([refused.error?.name, refused.error?.code, refused.error?.message], ['JwksResponseError', 'ERR_JWKS_RESPONSE_TOO_LARGE', 'JWKS response is larger than 4096 bytes'], JSON.stringify(refused.error));
  assert.ok(refused.ms < 2_000, `refused as the bytes came, not after the whole body (${Math.round(refused.ms)} ms)`);
  assert.ok(await eventually(() => record.cut), 'the worker closed the connection before the body ended');
  t.diagnostic(`refused after ${Math.round(refused.ms)} ms; the issuer wrote ${record.written} bytes before the connection closed`);
  assert.ok(record.written < 512 * 1_024, `the issuer wrote ${record.written} bytes before the worker went away`);
  assert.equal(issuer.jwksRequests, 2);
  // The good set is kept and serves.
  assert.deepEqual((await getKey('k1')).jwk, k1);
  assert.deepEqual((await getKey('k2')).jwk, issuer.keys[1]);
  const status = await statusOf();
  assert.deepEqual([status.kids, status.fresh, status.lastError?.code], [2, true, 'ERR_JWKS_RESPONSE_TOO_LARGE']);
  assert.equal(issuer.jwksRequests, 2);

  // On a cold cache, the same body is the caller's error, and nothing is cached.
  await reset({ maxResponseBytes: 4_096, timeoutMs: 4_000 });
  const cold = await getKey('k1');
  assert.equal(cold.error?.code, 'ERR_JWKS_RESPONSE_TOO_LARGE', JSON.stringify(cold.error));
  assert.equal((await statusOf()).kids, undefined);
});

test('a body that never ends: a trickle is ERR_JWKS_TIMEOUT and a flood ERR_JWKS_RESPONSE_TOO_LARGE, neither hangs, and a cached set is kept', async () => {
  await reset({ maxResponseBytes: 4_096, timeoutMs: 800 });
  const k1 = (await getKey('k1')).jwk;
  const cases = [
    ['headers, a few bytes, then nothing', { first: '{"keys":[' }, 'ERR_JWKS_TIMEOUT'],
    ['16 bytes every 50 ms, for ever', { first: '{"keys":[', chunk: ' '.repeat(16), everyMs: 50 }, 'ERR_JWKS_TIMEOUT'],
    ['1 KiB every 2 ms, for ever', { first: '{"keys":[', chunk: ' '.repeat(1_024), everyMs: 2 }, 'ERR_JWKS_RESPONSE_TOO_LARGE'],
  ];
  for (const [label, shape, code] of cases) {
    const { handler, record } = streaming(shape);
    issuer.behave('respond', handler);
    const requests = issuer.jwksRequests;
    const { error, ms } = await getKey(`rotated-${code}-${requests}`);
    assert.equal(error?.code, code, `${label}: ${JSON.stringify(error)}`);
    assert.ok(ms < 800 + 1_500, `${label}: answered in ${Math.round(ms)} ms, not hung`);
    if (code === 'ERR_JWKS_TIMEOUT') assert.ok(ms >= 750, `${label}: after the timeout (${Math.round(ms)} ms)`);
    assert.ok(await eventually(() => record.cut), `${label}: the worker closed the connection`);
    assert.equal(issuer.jwksRequests, requests + 1);
    // The good set answers; past the failure's backoff the next kid may refetch.
    assert.deepEqual((await getKey('k1')).jwk, k1, label);
    await advance(31 * SECOND);
  }
  assert.equal((await statusOf()).kids, 2);
});

// ---- 5. redirects ----

test('a redirect to another origin (301, 302, 303, 307, 308) is ERR_JWKS_REDIRECT, and the target is never requested; a cached set survives one', async () => {
  for (const status of [301, 302, 303, 307, 308]) {
    await reset();
    issuer.behave('respond', (req, res) => res.writeHead(status, { location: elsewhere.jwksUri }).end());
    const { error } = await getKey('k1');
    assert.deepEqual([error?.name, error?.code, error?.status], ['JwksFetchError', 'ERR_JWKS_REDIRECT', status], JSON.stringify(error));
    assert.match(error.message, new RegExp(`^Failed to fetch JWKS \\(redirect ${status}, not followed`));
  }
  assert.equal(issuer.jwksRequests, 5);
  // Warm, then a refetch for a new kid is redirected.
  issuer.behave('ok');
  await reset();
  const k1 = (await getKey('k1')).jwk;
  issuer.behave('respond', (req, res) => res.writeHead(302, { location: elsewhere.jwksUri }).end());
  assert.equal((await getKey('moved')).error?.code, 'ERR_JWKS_REDIRECT');
  assert.deepEqual((await getKey('k1')).jwk, k1);
  assert.equal(issuer.jwksRequests, 7);
  await sleep(100);
  assert.equal(elsewhere.jwksRequests, 0, 'the redirect target was never asked');
});

// ---- 6. rotations ----

test('two key rotations in quick succession are each picked up by the first lookup naming the new key', async () => {
  await getKey('k1');
  const k3 = issuer.rotate(); // k2, k3: k1 dropped
  const third = await getKey(k3);
  assert.equal(third.jwk?.kid, k3, JSON.stringify(third.error));
  assert.equal(issuer.jwksRequests, 2);
  await advance(1_500); // 1.5 s later, well within the 30 s refetch window
  const k4 = issuer.rotate(); // k3, k4
  const fourth = await getKey(k4);
  assert.equal(fourth.jwk?.kid, k4, JSON.stringify(fourth.error));
  assert.equal(issuer.jwksRequests, 3);
  // The refreshed set serves: the kept key without a request, the dropped one not at all.
  assert.equal((await getKey(k3)).jwk?.kid, k3);
  assert.equal(issuer.jwksRequests, 3);
});

// ---- 7. a flood of unknown kids ----

test('a flood of 300 random unknown kids on a warm cache: at most 2 requests in the window, every one answered null, the known kid served throughout; a rotation right after is found by its second lookup, and past the window by its first', async (t) => {
  const k1 = (await getKey('k1')).jwk;
  const junk = () => `junk-${crypto.randomUUID()}`;
  // 150 at once (in workerd each is a request of its own), then 150 one after the other, with
  // the known kid asked among them.
  const concurrent = await Promise.all(Array.from({ length: 150 }, (_, i) => getKey(i % 25 === 0 ? 'k1' : junk())));
  for (const [i, { jwk, error }] of concurrent.entries()) {
    if (i % 25 === 0) assert.deepEqual(jwk, k1, JSON.stringify(error));
    else assert.equal(jwk, null, JSON.stringify(error));
  }
  for (let i = 0; i < 150; i++) {
    const { jwk, error } = await getKey(i % 25 === 0 ? 'k1' : junk());
    if (i % 25 === 0) assert.deepEqual(jwk, k1, JSON.stringify(error));
    else assert.equal(jwk, null, JSON.stringify(error));
  }
  const floodRequests = issuer.jwksRequests - 1;
  t.diagnostic(`JWKS requests for the flood of 300 lookups (288 unknown kids): ${floodRequests}`);
  assert.ok(floodRequests >= 1 && floodRequests <= 2, `the flood cost ${floodRequests} requests`);
  assert.deepEqual((await getKey('k1')).jwk, k1);

  // A rotation right after: the window's first slot went to the flood, so the first lookup of
  // the new kid is answered from the set (null, no request); the second, a kid seen missing
  // before, refetches and finds it (README "Decisions").
  const requests = issuer.jwksRequests;
  const k3 = issuer.rotate({ keepOld: true });
  assert.equal((await getKey(k3)).jwk, null);
  assert.equal(issuer.jwksRequests, requests);
  assert.equal((await getKey(k3)).jwk?.kid, k3);
  assert.equal(issuer.jwksRequests, requests + 1);

  // Another flood in the same window costs nothing more, and a rotation during it waits for the
  // next window, where its first lookup finds it.
  for (let i = 0; i < 50; i++) assert.equal((await getKey(junk())).jwk, null);
  const k4 = issuer.rotate({ keepOld: true });
  assert.equal((await getKey(k4)).jwk, null, 'within the spent window: answered from the set');
  assert.equal(issuer.jwksRequests, requests + 1);
  await advance(31 * SECOND);
  assert.equal((await getKey(k4)).jwk?.kid, k4, 'a new window: found by its first lookup');
  assert.equal(issuer.jwksRequests, requests + 2);
  assert.deepEqual((await getKey('k1')).jwk, k1);
});

// ---- 8. a herd during a background refresh ----

test('a herd past the TTL: 50 concurrent requests for a known kid are all answered from the stale set while exactly one refresh runs; then the refreshed set serves', async (t) => {
  await reset({ ttlMs: MINUTE });
  const k1 = (await getKey('k1')).jwk;
  const { fetchedAt } = await statusOf();
  const added = issuer.rotate({ keepOld: true });
  issuer.behave('slow', 2_000);
  await advance(MINUTE);
  const started = performance.now();
  const herd = await Promise.all(Array.from({ length: 50 }, () => getKey('k1')));
  const herdMs = performance.now() - started;
  t.diagnostic(`50 concurrent requests answered in ${Math.round(herdMs)} ms (the refresh takes 2000 ms)`);
  for (const { jwk, error } of herd) assert.deepEqual(jwk, k1, JSON.stringify(error));
  const during = await statusOf();
  assert.equal(during.fetching, true, `the 2 s refresh was still running when the whole herd had its answers (${Math.round(herdMs)} ms)`);
  assert.equal(during.stale, true);
  assert.equal(issuer.jwksRequests, 2, 'one refresh for the 50 requests');
  // The refresh (kept alive by ctx.waitUntil) ends, and the set it brought serves, fresh.
  assert.ok(await eventually(async () => (await statusOf()).fresh), 'the refresh ended');
  const afterwards = await statusOf();
  assert.ok(afterwards.fetchedAt > fetchedAt);
  assert.equal(afterwards.kids, 3);
  assert.equal((await getKey(added)).jwk?.kid, added, 'the key published meanwhile, from the refreshed set');
  assert.deepEqual((await getKey('k1')).jwk, k1);
  assert.equal(issuer.jwksRequests, 2);
});

// ---- 9. maxEntries ----

test('maxEntries 5 with 50 distinct URIs: the cache stays at its bound, an early URI is forgotten (status null) and fetched again on its next lookup', async () => {
  await reset({ maxEntries: 5 });
  const uri = (n) => `${issuer.jwksUri}?n=${n}`;
  for (let n = 0; n < 50; n++) assert.deepEqual((await getKey('k1', { uri: uri(n) })).jwk, issuer.keys[0]);
  assert.equal(issuer.jwksRequests, 50);
  const kept = [];
  for (let n = 0; n < 50; n++) if ((await statusOf(uri(n))) !== null) kept.push(n);
  assert.deepEqual(kept, [45, 46, 47, 48, 49]);
  // A kept URI answers from the cache; a forgotten one fetches again.
  assert.deepEqual((await getKey('k2', { uri: uri(49) })).jwk, issuer.keys[1]);
  assert.equal(issuer.jwksRequests, 50);
  assert.deepEqual((await getKey('k1', { uri: uri(0) })).jwk, issuer.keys[0]);
  assert.equal(issuer.jwksRequests, 51);
  assert.notEqual(await statusOf(uri(0)), null);
  assert.equal(await statusOf(uri(45)), null, 'the least recently looked up made room');

  // 50 at once, each its own request: every caller gets its key, and the bound holds.
  await reset({ maxEntries: 5 });
  issuer.resetCounts();
  const answers = await Promise.all(Array.from({ length: 50 }, (_, n) => getKey('k1', { uri: uri(100 + n) })));
  for (const { jwk, error } of answers) assert.deepEqual(jwk, issuer.keys[0], JSON.stringify(error));
  assert.equal(issuer.jwksRequests, 50);
  let cached = 0;
  for (let n = 100; n < 150; n++) if ((await statusOf(uri(n))) !== null) cached += 1;
  assert.ok(cached <= 5, `${cached} URIs kept`);
});

// ---- workerd's I/O contexts ----

test('without waitUntil, workerd cancels a stale set\'s background refresh with its response: the set stays stale, and a lookup joining the lost refresh fetches for itself at its deadline (timeoutMs + 1 s)', async () => {
  await reset({ ttlMs: MINUTE, timeoutMs: 1_500 });
  const k1 = (await getKey('k1')).jwk;
  const { fetchedAt } = await statusOf();
  const added = issuer.rotate({ keepOld: true });
  issuer.behave('slow', 300);
  const refreshStart = await advance(MINUTE);
  assert.deepEqual((await getKey('k1', { waitUntil: false })).jwk, k1);
  await sleep(700);
  assert.equal(issuer.jwksRequests, 2, 'the refresh reached the issuer');
  const lost = await statusOf();
  assert.deepEqual([lost.fetchedAt, lost.fetching], [fetchedAt, true], 'its answer (300 ms) never reached the cache');
  // A kid missing from the stale set waits on that refresh until its deadline, then fetches
  // (the issuer answering in 300 ms).
  const left = refreshStart + 1_500 + 1_000 - (await advance(0));
  const joined = await getKey(added, { waitUntil: false });
  assert.equal(joined.jwk?.kid, added, JSON.stringify(joined.error));
  assert.ok(joined.ms >= left + 300 - 50 && joined.ms < left + 300 + 1_000, `the lookup waited ${Math.round(joined.ms)} ms; the lost refresh had ${Math.round(left)} ms left`);
  assert.equal(issuer.jwksRequests, 3);
  assert.equal((await statusOf()).fresh, true);
});
