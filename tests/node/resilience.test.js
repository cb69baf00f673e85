// Staying up when the issuer does not, and never hammering it (issue 11, ATTACKS.md C2, C3):
// stale-while-revalidate, stale-if-error up to maxStaleMs then failing closed, failures backing
// off, and the refetch budget that tells a key rotation from a flood of made-up kids. Against a
// real issuer on 127.0.0.1 that fails, hangs and rotates; the clock is the cache's `now` option.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createJwksCache } from 'jwks-cache';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';

let issuer;
before(async () => {
  issuer = await startJwksServer();
});
after(() => issuer.close());
beforeEach(() => {
  issuer.setKeys([makePublicJwk('EC', 'k1')]);
  issuer.behave('ok');
  issuer.resetCounts();
});

const MINUTE = 60_000;
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

test('stale-while-revalidate: past the TTL a known kid is answered at once while one refresh runs in the background', async () => {
  let now = 1_700_000_000_000;
  const cache = createJwksCache({ ttlMs: MINUTE, now: () => now });
  const k1 = await cache.getKey(issuer.jwksUri, 'k1');
  now += MINUTE;
  issuer.behave('slow', 500);
  issuer.setKeys([...issuer.keys, makePublicJwk('EC', 'k2')]);
  const started = performance.now();
  const answers = await Promise.all(Array.from({ length: 100 }, () => cache.getKey(issuer.jwksUri, 'k1')));
  assert.ok(performance.now() - started < 250, 'nobody waited on the 500 ms refresh');
  assert.ok(answers.every((jwk) => jwk === k1));
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(issuer.jwksRequests, 2, 'one refresh for the 100 callers');
  // The refreshed set answers from then on, fresh again.
  assert.equal((await cache.getKey(issuer.jwksUri, 'k2')).kid, 'k2');
  assert.equal(issuer.jwksRequests, 2);
});

for (const [outage, mode, value] of [['500', 'status', 500], ['garbage', 'garbage'], ['hang', 'hang'], ['empty keys', 'body', '{"keys":[]}']]) {
  test(`stale-if-error (${outage}): the last good set serves for maxStaleMs, refreshes spaced out, then the cache fails closed`, async () => {
    let now = 1_700_000_000_000;
    const cache = createJwksCache({ ttlMs: MINUTE, maxStaleMs: 10 * MINUTE, timeoutMs: 200, now: () => now });
    const k1 = await cache.getKey(issuer.jwksUri, 'k1');
    issuer.behave(mode, value);
    // Nine minutes of outage past the TTL, a lookup every 10 s: all answered, none waiting. (The
    // pause after each lets the background refresh end in real time, as the simulated clock
    // jumps: a hanging one after its 200 ms timeout.)
    for (let at = MINUTE; at < 10 * MINUTE; at += 10_000) {
      now = 1_700_000_000_000 + at;
      const started = performance.now();
      assert.equal(await cache.getKey(issuer.jwksUri, 'k1'), k1);
      assert.ok(performance.now() - started < 100, 'answered from the stale set at once');
      await new Promise((resolve) => setTimeout(resolve, mode === 'hang' ? 260 : 30));
    }
    // Waits of 1, 2, 4, 8, 16, then 30 s: about 22 requests in 9 minutes, instead of one a lookup.
    assert.ok(issuer.jwksRequests <= 1 + 24, `${issuer.jwksRequests} requests`);
    // Past TTL + maxStaleMs the set is not served: fail closed with the issuer's error.
    now = 1_700_000_000_000 + 11 * MINUTE + 31_000;
    const expected = { 500: 'ERR_JWKS_HTTP_STATUS', garbage: 'ERR_JWKS_INVALID_JSON', hang: 'ERR_JWKS_TIMEOUT', 'empty keys': 'ERR_JWKS_SET_REFUSED' }[outage];
    await assert.rejects(cache.getKey(issuer.jwksUri, 'k1'), { code: expected });
    // An empty set over one that holds keys is taken for a broken deployment, not a revocation
    // of every key: a failed refresh, which the error says.
    if (outage === 'empty keys') assert.match(cache.status(issuer.jwksUri).lastError.message, /"keys" array is empty/);
    // The issuer recovers: past the backoff, the set is fetched again.
    issuer.behave('ok');
    now += 31_000;
    assert.deepEqual(await cache.getKey(issuer.jwksUri, 'k1'), k1);
  });
}

test('a failing issuer on a cold cache is asked once per backoff, not once per call', async () => {
  let now = 1_700_000_000_000;
  const cache = createJwksCache({ maxRetries: 0, now: () => now });
  issuer.behave('status', 503);
  const failures = await Promise.allSettled(Array.from({ length: 50 }, () => cache.getKey(issuer.jwksUri, 'k1')));
  assert.ok(failures.every((r) => r.status === 'rejected' && r.reason.status === 503));
  for (let i = 0; i < 50; i++) await assert.rejects(cache.getKey(issuer.jwksUri, 'k1'), { status: 503 });
  assert.equal(issuer.jwksRequests, 1, 'the 100 calls within the backoff cost one request');
  issuer.behave('ok');
  now += 1_000;
  assert.equal((await cache.getKey(issuer.jwksUri, 'k1')).kid, 'k1');
});

test('C2: a flood of 1000 unknown kids costs at most 2 requests per window, answers at once, and a rotation after it is picked up by its second token', async () => {
  let now = 1_700_000_000_000;
  const cache = createJwksCache({ ttlMs: 60 * MINUTE, now: () => now });
  await cache.getKey(issuer.jwksUri, 'k1');
  const started = performance.now();
  for (let i = 0; i < 1000; i++) assert.equal(await cache.getKey(issuer.jwksUri, `junk-${i}-${Math.random()}`), null);
  assert.ok(performance.now() - started < 1_000, 'the misses were answered from the set, not after requests');
  assert.equal(issuer.jwksRequests, 2, 'the cold fetch and one refetch');
  // The legitimate kid is answered throughout, without a request.
  assert.equal((await cache.getKey(issuer.jwksUri, 'k1')).kid, 'k1');
  // The issuer rotates now: the first token naming the new key is answered from the set, the
  // second one (a kid seen missing before) refetches.
  const k2 = issuer.rotate({ keepOld: true });
  assert.equal(await cache.getKey(issuer.jwksUri, k2), null);
  assert.equal((await cache.getKey(issuer.jwksUri, k2)).kid, k2);
  assert.equal(issuer.jwksRequests, 3);
  // That refetch brought its kid (a rotation) and gave its slot back: a flood that repeats its
  // kids takes it once more, and then the window is spent.
  for (let i = 0; i < 100; i++) await cache.getKey(issuer.jwksUri, `again-${i % 3}`);
  assert.equal(issuer.jwksRequests, 4);
  // The next window has a budget again: a rotation is picked up at once.
  now += 30_000;
  const k3 = issuer.rotate({ keepOld: true });
  assert.equal((await cache.getKey(issuer.jwksUri, k3)).kid, k3, 'a new window: at once');
  assert.equal(issuer.jwksRequests, 5);
});

test('C2: two key rotations in quick succession are each picked up by the first token naming the new key', async () => {
  const now = 1_700_000_000_000;
  const cache = createJwksCache({ ttlMs: 60 * MINUTE, now: () => now });
  await cache.getKey(issuer.jwksUri, 'k1');
  for (let rotation = 0; rotation < 3; rotation++) {
    const kid = issuer.rotate();
    assert.equal((await cache.getKey(issuer.jwksUri, kid)).kid, kid, `rotation ${rotation + 1}`);
  }
  assert.equal(issuer.jwksRequests, 4);
});

test('options: maxStaleMs and refetchCooldownMs are checked', () => {
  for (const options of [{ maxStaleMs: -1 }, { maxStaleMs: 1.5 }, { maxStaleMs: 8 * 24 * 60 * MINUTE }, { refetchCooldownMs: 999 }, { refetchCooldownMs: '30000' }]) {
    assert.throws(() => createJwksCache(options), { code: 'ERR_INVALID_OPTION' }, JSON.stringify(options));
  }
  createJwksCache({ maxStaleMs: 0, refetchCooldownMs: 1_000 });
});

test('maxEntries: 100,000 distinct URIs leave the cache at its bound, the least recently looked-up forgotten first', async () => {
  const { initSync } = await import('../../node_modules/jwks-cache/wasm/jwks_cache.js');
  const memory = initSync({ module: new Uint8Array() }).memory;
  const body = JSON.stringify({ keys: [makePublicJwk('EC', 'k')] });
  const fetched = new Map();
  const fetch = async (uri) => {
    fetched.set(uri, (fetched.get(uri) ?? 0) + 1);
    return new Response(body, { status: 200, headers: { 'content-type': 'application/json' } });
  };
  const cache = createJwksCache({ maxEntries: 50, fetch });
  const uri = (n) => `https://issuer-${n}.example/jwks`;
  await cache.getKey(uri(0), 'k');
  const pagesBefore = memory.buffer.byteLength;
  // In batches of 100 concurrent lookups (each its own URI), the one before each batch looked up
  // again with it.
  for (let n = 1; n <= 100_000; n += 100) {
    const batch = Array.from({ length: 100 }, (_, at) => cache.getKey(uri(n + at), 'k'));
    if (n > 1) batch.push(cache.getKey(uri(n - 1), 'k'));
    await Promise.all(batch);
  }
  assert.ok(memory.buffer.byteLength - pagesBefore <= 1024 * 1024, `wasm memory grew by ${memory.buffer.byteLength - pagesBefore} bytes`);
  // The most recent ones are still cached; the first one was forgotten and is fetched again.
  await cache.getKey(uri(100_000), 'k');
  assert.equal(fetched.get(uri(100_000)), 1);
  await cache.getKey(uri(0), 'k');
  assert.equal(fetched.get(uri(0)), 2);
  assert.throws(() => createJwksCache({ maxEntries: 0 }), { code: 'ERR_INVALID_OPTION' });
});

test('retries: a 503 or a dropped connection is tried again (doubling, jittered waits) within timeoutMs; a 404 is not', async () => {
  // One retry more than the two 503s need: a keep-alive connection an earlier test left behind
  // may fail the first attempt before it reaches the issuer (which is what retries are for).
  const cache = createJwksCache({ maxRetries: 3 });
  let failures = 2;
  issuer.behave('respond', (req, res) => {
    if (failures-- > 0) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: issuer.keys }));
  });
  assert.equal((await cache.getKey(issuer.jwksUri, 'k1')).kid, 'k1', 'the third attempt answers');
  assert.equal(issuer.jwksRequests, 3);

  issuer.resetCounts();
  let drops = 1;
  issuer.behave('respond', (req, res) => {
    if (drops-- > 0) return void res.socket.destroy();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: issuer.keys }));
  });
  assert.equal((await createJwksCache().getKey(issuer.jwksUri, 'k1')).kid, 'k1');
  assert.equal(issuer.jwksRequests, 2);

  issuer.resetCounts();
  issuer.behave('status', 404);
  await assert.rejects(createJwksCache().getKey(issuer.jwksUri, 'k1'), { code: 'ERR_JWKS_HTTP_STATUS', status: 404 });
  assert.equal(issuer.jwksRequests, 1, 'no retry of a 4xx');

  issuer.resetCounts();
  issuer.behave('status', 500);
  await assert.rejects(createJwksCache({ maxRetries: 5 }).getKey(issuer.jwksUri, 'k1'), { status: 500 });
  assert.equal(issuer.jwksRequests, 6, 'maxRetries');
  assert.throws(() => createJwksCache({ maxRetries: 6 }), { code: 'ERR_INVALID_OPTION' });
});

test('retries: a 429 is tried again after its Retry-After, when the timeout leaves room; never past it', async () => {
  let limited = 1;
  issuer.behave('respond', (req, res) => {
    if (limited-- > 0) return void res.writeHead(429, { 'retry-after': '1' }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: issuer.keys }));
  });
  const started = performance.now();
  assert.equal((await createJwksCache().getKey(issuer.jwksUri, 'k1')).kid, 'k1');
  assert.ok(performance.now() - started >= 950, 'waited for Retry-After');
  assert.equal(issuer.jwksRequests, 2);

  issuer.resetCounts();
  issuer.behave('respond', (req, res) => res.writeHead(429, { 'retry-after': '30' }).end());
  const quick = performance.now();
  await assert.rejects(createJwksCache().getKey(issuer.jwksUri, 'k1'), { status: 429 });
  assert.ok(performance.now() - quick < 1_000, 'a Retry-After past the 5 s timeout fails at once');
  assert.equal(issuer.jwksRequests, 1);
});

test('forceRefresh, invalidate and status', async () => {
  let now = 1_700_000_000_000;
  const cache = createJwksCache({ ttlMs: MINUTE, maxStaleMs: MINUTE, maxRetries: 0, now: () => now });
  assert.equal(cache.status(issuer.jwksUri), null);
  await cache.getKey(issuer.jwksUri, 'k1');
  assert.deepEqual(cache.status(issuer.jwksUri), {
    fetchedAt: now, freshUntil: now + MINUTE, usableUntil: now + 2 * MINUTE, fresh: true, stale: false, kids: 1, fetching: false, nextRefreshAt: now + MINUTE,
  });
  // Two unknown kids, the second one twice: the window's refetch budget is spent.
  await cache.getKey(issuer.jwksUri, 'x');
  await cache.getKey(issuer.jwksUri, 'y');
  await cache.getKey(issuer.jwksUri, 'y');
  assert.equal(cache.status(issuer.jwksUri).coolingDownUntil, now + 30_000);
  issuer.resetCounts();
  // A forced refresh fetches a fresh set again; concurrent ones share one request.
  const k2 = issuer.rotate({ keepOld: true });
  await Promise.all([cache.forceRefresh(issuer.jwksUri), cache.forceRefresh(issuer.jwksUri)]);
  assert.equal(issuer.jwksRequests, 1);
  assert.equal((await cache.getKey(issuer.jwksUri, k2)).kid, k2);
  issuer.resetCounts();
  // It fails with the issuer's error and keeps the set; while that failure backs off, at once.
  issuer.behave('status', 503);
  await assert.rejects(cache.forceRefresh(issuer.jwksUri), { code: 'ERR_JWKS_HTTP_STATUS', status: 503 });
  await assert.rejects(cache.forceRefresh(issuer.jwksUri), { status: 503 });
  assert.equal(issuer.jwksRequests, 1);
  const failing = cache.status(issuer.jwksUri);
  assert.equal(failing.lastError.code, 'ERR_JWKS_HTTP_STATUS');
  assert.ok(failing.lastError instanceof Error);
  assert.deepEqual([failing.failures, failing.retryAt, failing.nextRefreshAt, failing.kids], [1, now + 1_000, now + 1_000, 2]);
  now += MINUTE;
  assert.equal(cache.status(issuer.jwksUri).stale, true);
  // invalidate forgets the set (the next lookup fetches), not the failures' backoff: an
  // invalidation, which another instance may send at will, never makes a failing issuer asked at once.
  issuer.behave('ok');
  await cache.invalidate(issuer.jwksUri);
  const forgotten = cache.status(issuer.jwksUri);
  assert.deepEqual([forgotten.fetchedAt, forgotten.lastError.code, forgotten.retryAt], [undefined, 'ERR_JWKS_HTTP_STATUS', now - MINUTE + 1_000]);
  assert.equal((await cache.getKey(issuer.jwksUri, 'k1')).kid, 'k1');
  assert.equal(issuer.jwksRequests, 2);
  await assert.rejects(cache.forceRefresh('ftp://x'), { code: 'ERR_JWKS_URI_INVALID' });
  await assert.rejects(cache.invalidate(42), { code: 'ERR_JWKS_URI_INVALID' });
  assert.throws(() => cache.status(undefined), { code: 'ERR_JWKS_URI_MISSING' });
});

test('refreshIntervalMs refreshes every cached set in the background; close() stops it; the timer never keeps Node alive', async () => {
  const cache = createJwksCache({ refreshIntervalMs: 1_000 });
  await cache.getKey(issuer.jwksUri, 'k1');
  const fetchedAt = cache.status(issuer.jwksUri).fetchedAt;
  const k2 = issuer.rotate({ keepOld: true });
  await new Promise((resolve) => setTimeout(resolve, 1_300));
  assert.equal(issuer.jwksRequests, 2, 'refreshed by the timer');
  assert.ok(cache.status(issuer.jwksUri).fetchedAt > fetchedAt);
  const before = issuer.jwksRequests;
  assert.equal((await cache.getKey(issuer.jwksUri, k2)).kid, k2, 'the rotated key is there without a miss');
  assert.equal(issuer.jwksRequests, before);
  cache.close();
  await new Promise((resolve) => setTimeout(resolve, 1_300));
  assert.equal(issuer.jwksRequests, before, 'nothing refreshed after close()');
  for (const refreshIntervalMs of [999, 1.5, '1000', 86_400_001]) {
    assert.throws(() => createJwksCache({ refreshIntervalMs }), { code: 'ERR_INVALID_OPTION' });
  }
  // A process that never calls close() still exits. (Run asynchronously: the issuer is this process.)
  const { execFile } = await import('node:child_process');
  const script = `import { createJwksCache } from 'jwks-cache';
    const cache = createJwksCache({ refreshIntervalMs: 1000 });
    await cache.getKey(${JSON.stringify(issuer.jwksUri)}, 'k1');
    console.log('done');`;
  const started = Date.now();
  const stdout = await new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: new URL('../..', import.meta.url), timeout: 10_000 }, (error, out, err) =>
      error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
    );
  });
  assert.equal(stdout.trim(), 'done');
  assert.ok(Date.now() - started < 5_000, 'exited without waiting for the timer');
});

test('a herd during a background refresh: every caller is answered from the set at once, and the refresh is the only request', async () => {
  let now = 1_700_000_000_000;
  const cache = createJwksCache({ ttlMs: MINUTE, now: () => now });
  const k1 = await cache.getKey(issuer.jwksUri, 'k1');
  issuer.behave('slow', 400);
  const k2 = issuer.rotate({ keepOld: true });
  now += MINUTE;
  // The first lookup past the TTL starts the refresh; the herd arrives while it runs, stale and
  // fresh-looking kids alike (the new kid is not in the stale set yet: it joins the refresh).
  assert.equal(await cache.getKey(issuer.jwksUri, 'k1'), k1);
  assert.equal(cache.status(issuer.jwksUri).fetching, true);
  const started = performance.now();
  const herd = await Promise.all(Array.from({ length: 200 }, () => cache.getKey(issuer.jwksUri, 'k1')));
  assert.ok(performance.now() - started < 300, 'nobody waited on the 400 ms refresh');
  assert.ok(herd.every((jwk) => jwk === k1));
  const joined = await Promise.all(Array.from({ length: 20 }, () => cache.getKey(issuer.jwksUri, k2)));
  assert.ok(joined.every((jwk) => jwk?.kid === k2), 'a kid missing from the stale set waits for the running refresh');
  assert.equal(issuer.jwksRequests, 2, 'the warm fetch and the one refresh');
  assert.equal(cache.status(issuer.jwksUri).fresh, true);
});

test('waitUntil (Workers): a background refresh is handed to it, from the cache option or the verify option', async () => {
  let now = 1_700_000_000_000;
  const handed = [];
  const cache = createJwksCache({ ttlMs: MINUTE, now: () => now, waitUntil: (work) => handed.push(['cache', work]) });
  await cache.getKey(issuer.jwksUri, 'k1');
  now += MINUTE;
  await cache.getKey(issuer.jwksUri, 'k1');
  assert.equal(handed.length, 1);
  assert.equal(handed[0][0], 'cache');
  assert.ok(handed[0][1] instanceof Promise);
  await handed[0][1];
  assert.equal(issuer.jwksRequests, 2);
  assert.throws(() => createJwksCache({ waitUntil: 'later' }), { code: 'ERR_INVALID_OPTION' });
  // Per call, for a cache shared by requests (each with its own ctx.waitUntil).
  now += MINUTE;
  const perCall = [];
  await cache.getKey(issuer.jwksUri, 'k1', { waitUntil: (work) => perCall.push(work) });
  assert.equal(perCall.length, 1);
  await perCall[0];
  assert.equal(handed.length, 1, 'not the cache option');
  now += MINUTE;
  await assert.rejects(cache.getKey(issuer.jwksUri, 'k1', { waitUntil: 'later' }), { code: 'ERR_INVALID_OPTION' });
  await assert.rejects(cache.getKey(issuer.jwksUri, 'k1', 'later'), { code: 'ERR_INVALID_OPTION' });
  assert.equal((await cache.getKey(issuer.jwksUri, 'k1', {})).kid, 'k1', 'no waitUntil: the cache option');
  assert.equal(handed.length, 2);
  await handed[1][1];
});

test('allowedJwksUris: a URI outside the allowed prefixes is refused before any request', async () => {
  const cache = createJwksCache({ allowedJwksUris: [`${issuer.origin}/.well-known/`] });
  assert.equal((await cache.getKey(issuer.jwksUri, 'k1')).kid, 'k1');
  await assert.rejects(cache.getKey(`${issuer.origin}/other/jwks.json`, 'k1'), { code: 'ERR_JWKS_URI_INVALID', message: /not in allowedJwksUris/ });
  await assert.rejects(cache.forceRefresh(`${issuer.origin}/other/jwks.json`), { code: 'ERR_JWKS_URI_INVALID' });
  assert.equal(issuer.jwksRequests, 1);
  assert.equal(issuer.requestsTo('/other/jwks.json'), 0);
  for (const allowedJwksUris of [[], ['https://issuer.example'], 'https://issuer.example/', [42]]) {
    assert.throws(() => createJwksCache({ allowedJwksUris }), { code: 'ERR_INVALID_OPTION' }, JSON.stringify(allowedJwksUris));
  }
  const hostile = new Proxy([], { get: () => { throw new Error('no'); } });
  assert.throws(() => createJwksCache({ allowedJwksUris: hostile }), { code: 'ERR_INVALID_OPTION' });
});
