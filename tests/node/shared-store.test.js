// The shared store in one process (memoryStore, and stores that fail or hang), events, logs and
// metrics. Redis across processes: redis-store.test.js.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createJwksCache, memoryStore } from 'jwks-cache';
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

/** An onEvent that records, and the events of one action. */
function recorder() {
  const events = [];
  return { events, onEvent: (event) => events.push(event), of: (action) => events.filter((e) => e.action === action) };
}

test('caches sharing a store: a set fetched by one answers the others, with no request to the issuer', async () => {
  const store = memoryStore();
  const first = createJwksCache({ store });
  const k1 = await first.getKey(issuer.jwksUri, 'k1');
  const { events, onEvent } = recorder();
  const second = createJwksCache({ store, onEvent });
  assert.deepEqual(await second.getKey(issuer.jwksUri, 'k1'), k1);
  assert.equal(issuer.jwksRequests, 1);
  assert.deepEqual(events.map((e) => [e.action, e.source]), [['JWKS_CACHE_REFRESHED', 'store']]);
  // The fetch time travels with the set: when the first cache's fetch began.
  const [stored, own] = [second.status(issuer.jwksUri).fetchedAt, first.status(issuer.jwksUri).fetchedAt];
  assert.ok(stored <= own && own - stored < 1_000, `${stored} vs ${own}`);
});

test('a cold start of 10 caches at once on one store makes one request to the issuer (the store lock)', async () => {
  const store = memoryStore();
  issuer.behave('slow', 150);
  const caches = Array.from({ length: 10 }, () => createJwksCache({ store }));
  const keys = await Promise.all(caches.map((cache) => cache.getKey(issuer.jwksUri, 'k1')));
  assert.ok(keys.every((jwk) => jwk?.kid === 'k1'));
  assert.equal(issuer.jwksRequests, 1);
});

test('a rotated kid is not answered from an older stored set: the issuer is asked', async () => {
  const store = memoryStore();
  const first = createJwksCache({ store });
  const second = createJwksCache({ store });
  await first.getKey(issuer.jwksUri, 'k1');
  await second.getKey(issuer.jwksUri, 'k1');
  const k2 = issuer.rotate({ keepOld: true });
  assert.equal((await second.getKey(issuer.jwksUri, k2)).kid, k2);
  assert.equal(issuer.jwksRequests, 2);
  // The first cache finds the rotated set in the store, newer than its own.
  assert.equal((await first.getKey(issuer.jwksUri, k2)).kid, k2);
  assert.equal(issuer.jwksRequests, 2);
});

test('invalidate(uri, { reason }) drops the set everywhere: the store entry, and the other caches on their next call', async () => {
  const store = memoryStore();
  const a = recorder();
  const b = recorder();
  const first = createJwksCache({ store, onEvent: a.onEvent });
  const second = createJwksCache({ store, onEvent: b.onEvent });
  await first.getKey(issuer.jwksUri, 'k1');
  await second.getKey(issuer.jwksUri, 'k1');
  assert.equal(issuer.jwksRequests, 1);
  // The keys leak: the issuer replaces them, and an operator invalidates on one instance.
  issuer.setKeys([makePublicJwk('EC', 'k9')]);
  assert.equal(await first.invalidate(issuer.jwksUri, { reason: 'key compromise' }), true);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(second.status(issuer.jwksUri), null, 'the other cache dropped its copy');
  assert.equal(await second.getKey(issuer.jwksUri, 'k1'), null);
  assert.equal((await first.getKey(issuer.jwksUri, 'k9')).kid, 'k9');
  assert.equal(issuer.jwksRequests, 2, 'one fetch of the new set; the other cache took it from the store');
  const [invalidated] = a.of('JWKS_CACHE_INVALIDATED');
  assert.deepEqual({ ...invalidated, timestamp: typeof invalidated.timestamp }, {
    action: 'JWKS_CACHE_INVALIDATED',
    timestamp: 'string',
    uri: issuer.jwksUri,
    reason: 'key compromise',
    shared: true,
  });
  assert.match(invalidated.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(b.of('JWKS_CACHE_INVALIDATED')[0].remote, true);
  assert.match(first.metrics(), /^jwt_jwks_cache_invalidations_total 1$/m);
  assert.match(first.metrics(), /^jwt_jwks_cache_invalidation_errors_total 0$/m);
});

/** A store whose every operation fails, or never answers. */
function brokenStore(how) {
  const fail = how === 'hang' ? () => new Promise(() => {}) : async () => { throw new Error('ECONNREFUSED 127.0.0.1:6379'); };
  return { get: fail, set: fail, delete: fail, lock: fail, publish: fail, subscribe: fail };
}

for (const how of ['fail', 'hang']) {
  test(`a store that ${how === 'fail' ? 'fails' : 'hangs'} is never a point of failure: lookups go on from memory and the issuer, each error reported`, async () => {
    const { events, onEvent, of } = recorder();
    const warnings = [];
    const logger = { warn: (context, message) => warnings.push([context, message]), info() {}, debug() {} };
    const cache = createJwksCache({ store: brokenStore(how), storeTimeoutMs: 50, onEvent, logger });
    const started = performance.now();
    assert.equal((await cache.getKey(issuer.jwksUri, 'k1')).kid, 'k1');
    assert.ok(performance.now() - started < 1_000);
    assert.equal(issuer.jwksRequests, 1);
    assert.equal((await cache.getKey(issuer.jwksUri, 'k1')).kid, 'k1', 'then from memory');
    // A store that could not be read is not asked for its lock: one timeout before the issuer.
    const operations = of('JWKS_CACHE_STORE_ERROR').map((e) => e.operation);
    assert.ok(['get', 'set'].every((op) => operations.includes(op)) && !operations.includes('lock'), operations.join());
    assert.ok(warnings.some(([context, message]) => context.action === 'JWKS_CACHE_STORE_ERROR' && message === 'JWKS_CACHE_STORE_ERROR'));
    // Invalidation: done locally, the shared part reported as failed, never thrown.
    assert.equal(await cache.invalidate(issuer.jwksUri, { reason: 'rotation' }), false);
    const [failed] = of('JWKS_CACHE_INVALIDATION_FAILED');
    assert.equal(failed.reason, 'rotation');
    assert.match(failed.error.message, how === 'fail' ? /ECONNREFUSED/ : /timed out/);
    assert.equal(cache.status(issuer.jwksUri), null);
    assert.match(cache.metrics(), /^jwt_jwks_cache_invalidation_errors_total 1$/m);
    assert.match(cache.metrics(), /^jwt_jwks_cache_store_errors_total\{operation="get"\} [1-9]/m);
    assert.ok(events.length > 0);
  });
}

test('a stored document that breaks the rules of a response is reported and the issuer asked', async () => {
  const inner = memoryStore();
  const written = [];
  const store = { ...inner, set: (key, value, ttlMs) => (written.push(key), inner.set(key, value, ttlMs)) };
  const { onEvent, of } = recorder();
  const writer = createJwksCache({ store });
  await writer.getKey(issuer.jwksUri, 'k1');
  // Tamper with every stored document: a duplicate member, which the strict reader refuses.
  for (const key of [...written]) {
    const document = JSON.parse(await store.get(key));
    if (document.body === undefined) continue;
    document.body = '{"keys":[],"keys":[]}';
    await store.set(key, JSON.stringify(document), 60_000);
  }
  const reader = createJwksCache({ store, onEvent });
  assert.equal((await reader.getKey(issuer.jwksUri, 'k1')).kid, 'k1');
  assert.equal(issuer.jwksRequests, 2);
  assert.equal(of('JWKS_CACHE_STORE_ERROR')[0].error.code, 'ERR_JWKS_INVALID_JSON');
});

test('a throwing or rejecting onEvent, and a throwing logger, never break a lookup', async () => {
  for (const onEvent of [() => { throw new Error('boom'); }, async () => { throw new Error('boom'); }]) {
    const logger = { warn() { throw new Error('log down'); }, debug() { throw new Error('log down'); }, info() {} };
    const cache = createJwksCache({ onEvent, logger });
    issuer.behave('status', 500);
    await assert.rejects(cache.getKey(issuer.jwksUri, 'k1'), { code: 'ERR_JWKS_HTTP_STATUS' });
    issuer.behave('ok');
  }
});

test('events: refreshed, refresh failed, stale served, refresh suppressed; logs at their levels', async () => {
  let now = 1_700_000_000_000;
  const { events, onEvent } = recorder();
  const lines = [];
  const logger = Object.fromEntries(['debug', 'info', 'warn'].map((level) => [level, (context, message) => lines.push([level, message])]));
  const cache = createJwksCache({ ttlMs: 60_000, maxRetries: 0, now: () => now, onEvent, logger });
  await cache.getKey(issuer.jwksUri, 'k1');
  await cache.getKey(issuer.jwksUri, 'k1');
  // Unknown kids: the first refetches, the next are held back by the budget.
  for (let i = 0; i < 5; i++) await cache.getKey(issuer.jwksUri, `junk-${i}`);
  now += 60_000;
  issuer.behave('status', 503);
  await cache.getKey(issuer.jwksUri, 'k1');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await cache.getKey(issuer.jwksUri, 'k1');
  const actions = events.map((e) => e.action);
  assert.deepEqual(actions, [
    'JWKS_CACHE_REFRESHED', // the cold fetch
    'JWKS_CACHE_REFRESHED', // the refetch for junk-0
    'JWKS_CACHE_REFRESH_SUPPRESSED', // junk-1 (reported once per set; counted every time)
    'JWKS_CACHE_STALE_SERVED',
    'JWKS_CACHE_REFRESH_FAILED',
  ]);
  const failed = events[4];
  assert.deepEqual([failed.error.code, failed.staleKept], ['ERR_JWKS_HTTP_STATUS', true]);
  assert.equal(events[2].reason, 'refetch_budget');
  assert.deepEqual(
    lines.filter(([level]) => level !== 'debug').map(([level, message]) => `${level} ${message}`),
    ['warn JWKS_CACHE_STALE_SERVED', 'warn JWKS_CACHE_REFRESH_FAILED'],
  );
  assert.ok(lines.some(([level, message]) => level === 'debug' && message === 'jwks-cache hit'));
  assert.ok(lines.some(([level, message]) => level === 'debug' && message === 'jwks-cache miss'));
  const metrics = cache.metrics();
  assert.match(metrics, /^jwt_jwks_cache_refresh_suppressed_total\{reason="refetch_budget"\} 4$/m);
  assert.match(metrics, /^jwt_jwks_cache_fetches_total\{result="success"\} 2$/m);
  assert.match(metrics, /^jwt_jwks_cache_fetch_errors_total\{code="ERR_JWKS_HTTP_STATUS"\} 1$/m);
  assert.match(metrics, /^jwt_jwks_cache_stale_hits_total 2$/m);
  assert.match(metrics, /^jwt_jwks_cache_fetch_duration_seconds_count 3$/m);
});

test('metrics count hits on every path: getKey, verify, a repeated token', async () => {
  const cache = createJwksCache();
  await cache.getKey(issuer.jwksUri, 'k1');
  for (let i = 0; i < 10; i++) await cache.getKey(issuer.jwksUri, 'k1');
  const snapshot = cache.metricsSnapshot();
  assert.deepEqual([snapshot.hits, snapshot.misses, snapshot.entries], [10, 1, 1]);
});

test('options: store, storeTimeoutMs, onEvent and logger are checked', () => {
  for (const options of [{ store: {} }, { store: null }, { store: { get() {}, set() {} } }, { storeTimeoutMs: 0 }, { storeTimeoutMs: 1.5 }, { onEvent: 'x' }, { logger: 'console' }]) {
    assert.throws(() => createJwksCache(options), { code: 'ERR_INVALID_OPTION' }, JSON.stringify(options));
  }
});

test('background refresh on two instances sharing a store: about one issuer request per interval between them', async () => {
  const store = memoryStore();
  const first = createJwksCache({ store, refreshIntervalMs: 1_000 });
  await first.getKey(issuer.jwksUri, 'k1');
  await new Promise((resolve) => setTimeout(resolve, 400));
  const second = createJwksCache({ store, refreshIntervalMs: 1_000 });
  await second.getKey(issuer.jwksUri, 'k1');
  assert.equal(issuer.jwksRequests, 1);
  // Ticks at 1.0 s and 2.0 s (first), 1.4 s and 2.4 s (second): the second takes the set the first
  // fetched 0.4 s before (within half the interval) instead of asking the issuer.
  await new Promise((resolve) => setTimeout(resolve, 2_250));
  first.close();
  second.close();
  assert.equal(issuer.jwksRequests, 3, 'the warm fetch and one per interval, not one per instance and interval');
  assert.ok(second.status(issuer.jwksUri).fetchedAt > Date.now() - 1_000, 'the second instance refreshed all the same');
});

// From the attacker pass on the shared store (each was a defect before).

test('an async logger or onEvent that rejects, or a logger whose members throw, never crashes the process or restarts the cache', async () => {
  const unhandled = [];
  const onUnhandled = (reason) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const loggers = [
      { warn: async () => { throw new Error('log sink down'); }, info: async () => { throw new Error('down'); }, debug: async () => { throw new Error('down'); } },
      new Proxy({}, { get: () => { throw new Error('no members'); } }),
    ];
    for (const logger of loggers) {
      let now = 1_700_000_000_000;
      const cache = createJwksCache({ ttlMs: 60_000, maxRetries: 0, now: () => now, logger, onEvent: async () => { throw new Error('audit down'); } });
      const k1 = await cache.getKey(issuer.jwksUri, 'k1');
      issuer.behave('status', 500);
      now += 60_000;
      assert.equal(await cache.getKey(issuer.jwksUri, 'k1'), k1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await cache.getKey(issuer.jwksUri, 'k1'), k1, 'the cache was not restarted');
      await cache.invalidate(issuer.jwksUri, { reason: 'drill' });
      issuer.behave('ok');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('a set written back to the store after an invalidation (a slow instance) is never adopted: the tombstone', async () => {
  const store = memoryStore();
  const a = createJwksCache({ store });
  const old = await a.getKey(issuer.jwksUri, 'k1');
  // A slow instance's write of the old set, captured now and landing after the invalidation.
  const key = (await captureKeys(store, () => createJwksCache({ store: spyOn(store) }).forceRefresh(issuer.jwksUri)))[0];
  const lateWrite = await store.get(key);
  issuer.setKeys([makePublicJwk('EC', 'k2')]);
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(await a.invalidate(issuer.jwksUri, { reason: 'leak' }), true);
  await store.set(key, lateWrite, 60_000);
  const before = issuer.jwksRequests;
  const fresh = createJwksCache({ store });
  assert.equal(await fresh.getKey(issuer.jwksUri, 'k1'), null, 'the dropped key does not come back');
  assert.equal((await fresh.getKey(issuer.jwksUri, 'k2')).kid, 'k2');
  assert.equal(issuer.jwksRequests, before + 1, 'the issuer was asked, not the stale copy');
  assert.equal(old.kid, 'k1');
});

/** A store that records the keys written through it. */
function spyOn(store) {
  return { ...store, set: (key, value, ttlMs) => (spyOn.written.push(key), store.set(key, value, ttlMs)) };
}
spyOn.written = [];

async function captureKeys(store, run) {
  spyOn.written = [];
  await run();
  return spyOn.written.filter((key) => !key.endsWith(':lock') && !key.endsWith(':invalidated'));
}

test('memoryStore holds at most 10,000 entries, the oldest written going first', async () => {
  const store = memoryStore();
  for (let i = 0; i < 12_000; i++) await store.set(`k${i}`, 'v', 3_600_000);
  assert.equal(await store.get('k0'), null);
  assert.equal(await store.get('k11999'), 'v');
});

test('a failed fetch releases the store lock: another instance does not wait on it', async () => {
  const store = memoryStore();
  const a = createJwksCache({ store, maxRetries: 0 });
  const b = createJwksCache({ store, maxRetries: 0 });
  issuer.behave('status', 500);
  await assert.rejects(a.getKey(issuer.jwksUri, 'k1'), { code: 'ERR_JWKS_HTTP_STATUS' });
  const started = performance.now();
  await assert.rejects(b.getKey(issuer.jwksUri, 'k1'), { code: 'ERR_JWKS_HTTP_STATUS' });
  assert.ok(performance.now() - started < 500, `${performance.now() - started} ms`);
});

test('invalidate tells the other instances even when deleting the stored set fails, and reports the failure', async () => {
  const inner = memoryStore();
  const failingDelete = { ...inner, delete: async () => { throw new Error('NOPERM this user has no permissions to run the del command'); } };
  const a = createJwksCache({ store: failingDelete });
  const b = createJwksCache({ store: inner });
  await a.getKey(issuer.jwksUri, 'k1');
  await b.getKey(issuer.jwksUri, 'k1');
  assert.equal(await a.invalidate(issuer.jwksUri), false);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(b.status(issuer.jwksUri), null, 'the other instance heard it');
});

test('subscriptions: one that gives no unsubscribe function is made once; close() aborts one still connecting', async () => {
  let subscribes = 0;
  const inner = memoryStore();
  const cache = createJwksCache({ store: { ...inner, subscribe: async () => void subscribes++ } });
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  assert.equal(subscribes, 1);
  cache.close();

  let signal;
  const connecting = createJwksCache({ store: { ...inner, subscribe: (channel, onMessage, given) => ((signal = given), new Promise(() => {})) } });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(signal.aborted, false);
  connecting.close();
  assert.equal(signal.aborted, true, 'the adapter is told to give up its connection');
});
