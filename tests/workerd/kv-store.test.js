// The Workers KV shared store (`jwks-cache/workers-kv`) in real workerd (Miniflare 4, a local KV
// namespace bound as JWKS_KV): a set one cache fetched is served to another from KV without a
// request to the issuer, under the key `jwks-cache:v1:jwks:<SHA-256 of the URI>`; invalidate
// deletes it there; a KV whose reads fail or hang never fails a lookup. The worker
// (tests/workerd/kv-worker.js) holds two caches `a` and `b` on the one namespace, standing in for
// two isolates; the last test runs two Miniflare instances (two workerd processes) on one
// persisted KV directory.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorker } from '../support/workers-bundle.js';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';
import { checkMetrics } from '../support/promtool.js';

const PREFIX = 'jwks-cache:v1:jwks:';

let issuer;
let mf;
let bundle;
/** Directories of persisted KV, removed at the end. */
const persistDirs = [];

before(async () => {
  issuer = await startJwksServer();
  bundle = await bundleWorker(new URL('./kv-worker.js', import.meta.url));
  mf = await startWorker();
});

/** A Miniflare running kv-worker.js with the JWKS_KV namespace (in memory, or persisted to `kvPersist`). */
function startWorker(kvPersist) {
  return bundle.start({ kvNamespaces: ['JWKS_KV'], ...(kvPersist === undefined ? {} : { kvPersist }) });
}

after(async () => {
  await mf?.dispose();
  await issuer?.close();
  bundle?.remove();
  for (const dir of persistDirs) rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  issuer.behave('ok');
  issuer.setKeys([makePublicJwk('EC', 'k1'), makePublicJwk('EC', 'k2')]);
  await emptyKv(mf);
  assert.equal(await (await mf.dispatchFetch('http://worker/reset')).text(), 'ok');
  issuer.resetCounts();
});

/** Every entry of the worker's JWKS_KV namespace: [{ name, expiration }], read from the test. */
async function kvKeys(worker = mf) {
  const kv = await worker.getKVNamespace('JWKS_KV');
  return (await kv.list()).keys;
}

async function emptyKv(worker) {
  const kv = await worker.getKVNamespace('JWKS_KV');
  for (const { name } of (await kv.list()).keys) await kv.delete(name);
}

/** GET a route of the worker for one of its caches: the parsed JSON (or text for /metrics). */
async function call(path, cache, params = {}, worker = mf) {
  const query = new URLSearchParams({ cache, ...params });
  const response = await worker.dispatchFetch(`http://worker${path}?${query}`);
  return path === '/metrics' ? response.text() : response.json();
}

const getKey = (cache, kid, worker) => call('/key', cache, { uri: issuer.jwksUri, kid }, worker);

function storeKeyOf(uri) {
  return PREFIX + createHash('sha256').update(uri).digest('hex');
}

test('a set fetched by one cache is served to the other from KV, with no request to the issuer', async () => {
  const first = await getKey('a', 'k1');
  assert.deepEqual(first.jwk, issuer.keys[0], JSON.stringify(first));
  assert.equal(issuer.jwksRequests, 1);
  assert.equal(await call('/fetches', 'a'), 1);
  // The write is awaited by the lookup that fetched: the entry is there when its response is.
  assert.equal((await kvKeys()).length, 1);

  const second = await getKey('b', 'k2');
  assert.deepEqual(second.jwk, issuer.keys[1], JSON.stringify(second));
  assert.equal(issuer.jwksRequests, 1, 'b took the set from KV');
  assert.equal(await call('/fetches', 'b'), 0);
  const refreshed = (await call('/events', 'b')).filter((e) => e.action === 'JWKS_CACHE_REFRESHED');
  assert.deepEqual(refreshed.map((e) => e.source), ['store']);
  const [statusA, statusB] = [await call('/status', 'a', { uri: issuer.jwksUri }), await call('/status', 'b', { uri: issuer.jwksUri })];
  // The fetch time travels with the set: when a's fetch began (the store's stamp).
  assert.ok(statusB.fetchedAt <= statusA.fetchedAt && statusA.fetchedAt - statusB.fetchedAt < 1_000, 'the fetch time travels with the set');
  assert.equal(statusB.kids, 2);
  // b's metrics, written in workerd: a store read that hit, no fetch; promtool passes them.
  const metrics = await call('/metrics', 'b');
  assert.match(metrics, /^jwt_jwks_cache_store_reads_total\{result="hit"\} 1$/m);
  assert.doesNotMatch(metrics, /^jwt_jwks_cache_fetches_total\{/m);
  const verdict = await checkMetrics(metrics);
  assert.ok(verdict.ok, verdict.output);
  // And then from b's own memory.
  assert.deepEqual((await getKey('b', 'k1')).jwk, issuer.keys[0]);
  assert.equal(issuer.jwksRequests, 1);
});

test('the KV entry: key jwks-cache:v1:jwks:<SHA-256 of the URI>, the set as fetched, an expiration', async () => {
  await getKey('a', 'k1');
  const keys = await kvKeys();
  assert.equal(keys.length, 1, JSON.stringify(keys));
  const [{ name, expiration }] = keys;
  assert.ok(name.startsWith(PREFIX), name);
  assert.match(name, /^jwks-cache:v1:jwks:[0-9a-f]{64}$/);
  assert.equal(name, storeKeyOf(issuer.jwksUri));
  const kv = await mf.getKVNamespace('JWKS_KV');
  const document = JSON.parse(await kv.get(name, 'text'));
  const status = await call('/status', 'a', { uri: issuer.jwksUri });
  assert.deepEqual(Object.keys(document).sort(), ['body', 'cacheControl', 'fetchedAt', 'uri']);
  assert.equal(document.uri, issuer.jwksUri);
  assert.ok(document.fetchedAt <= status.fetchedAt && status.fetchedAt - document.fetchedAt < 1_000, 'stamped with when the fetch began');
  assert.equal(document.cacheControl, 'public, max-age=600');
  assert.deepEqual(JSON.parse(document.body), { keys: issuer.keys });
  // Kept as long as the set is usable (freshness and stale window), in whole seconds.
  assert.equal(typeof expiration, 'number');
  const usableUntilSeconds = status.usableUntil / 1000;
  assert.ok(Math.abs(expiration - usableUntilSeconds) <= 2, `expiration ${expiration}, usable until ${usableUntilSeconds}`);
});

test('invalidate deletes the entry from KV; the next lookup fetches from the issuer and writes it again', async () => {
  await getKey('a', 'k1');
  await getKey('b', 'k1');
  assert.equal(issuer.jwksRequests, 1);
  assert.deepEqual((await kvKeys()).map((k) => k.name), [storeKeyOf(issuer.jwksUri)]);

  assert.deepEqual(await call('/invalidate', 'a', { uri: issuer.jwksUri }), { done: true });
  // Deleted, and a tombstone left: no instance adopts a set fetched before the invalidation.
  assert.deepEqual((await kvKeys()).map((k) => k.name), [`${storeKeyOf(issuer.jwksUri)}:invalidated`], 'deleted from KV');
  const kv = await mf.getKVNamespace('JWKS_KV');
  assert.equal(await kv.get(storeKeyOf(issuer.jwksUri)), null);
  const invalidated = (await call('/events', 'a')).filter((e) => e.action === 'JWKS_CACHE_INVALIDATED');
  assert.deepEqual(invalidated.map((e) => e.shared), [true]);
  assert.equal(await call('/status', 'a', { uri: issuer.jwksUri }), null);
  // KV has no pub/sub: b keeps its own copy until it expires (js/stores/workers-kv.js).
  assert.notEqual(await call('/status', 'b', { uri: issuer.jwksUri }), null);

  // a's next lookup finds nothing in KV and asks the issuer; the set is written back.
  const rotated = issuer.rotate();
  assert.equal((await getKey('a', rotated)).jwk.kid, rotated);
  assert.equal(issuer.jwksRequests, 2);
  assert.equal((await kvKeys()).length, 2, 'the set and the tombstone');
  assert.match(await call('/metrics', 'a'), /^jwt_jwks_cache_invalidations_total 1$/m);
  assert.match(await call('/metrics', 'a'), /^jwt_jwks_cache_invalidation_errors_total 0$/m);
});

for (const [cache, what] of [
  ['rejects', 'rejects'],
  ['throws', 'throws at once'],
  ['hangs', 'never settles'],
]) {
  test(`a KV whose get ${what} does not fail lookups: they go to the issuer, and the error is reported`, async () => {
    assert.equal(await (await mf.dispatchFetch('http://worker/reset?storeTimeoutMs=100')).text(), 'ok');
    const started = performance.now();
    const answer = await getKey(cache, 'k1');
    const elapsed = performance.now() - started;
    assert.deepEqual(answer.jwk, issuer.keys[0], JSON.stringify(answer));
    assert.equal(issuer.jwksRequests, 1);
    assert.ok(elapsed < 2_000, `the lookup took ${elapsed} ms`);
    const errors = (await call('/events', cache)).filter((e) => e.action === 'JWKS_CACHE_STORE_ERROR');
    assert.deepEqual(errors.map((e) => e.operation), ['get']);
    assert.match(errors[0].message, cache === 'hangs' ? /timed out after 100 ms/ : /KV GET failed/);
    // From memory afterwards; an unknown kid still refetches (the store read fails again).
    assert.deepEqual((await getKey(cache, 'k2')).jwk, issuer.keys[1]);
    assert.equal(issuer.jwksRequests, 1);
    assert.equal((await getKey(cache, 'nope')).jwk, null);
    assert.equal(issuer.jwksRequests, 2);
    const metrics = await call('/metrics', cache);
    assert.match(metrics, /^jwt_jwks_cache_store_errors_total\{operation="get"\} 2$/m);
    assert.match(metrics, /^jwt_jwks_cache_fetches_total\{result="success"\} 2$/m);
    // Writes go through (only get is broken): another cache finds the set there.
    assert.deepEqual((await getKey('b', 'k1')).jwk, issuer.keys[0]);
    assert.equal(issuer.jwksRequests, 2);
  });
}

test('two Miniflare instances (two workerd processes) on one persisted KV: the second takes the set the first fetched', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jwks-cache-kv-persist-'));
  persistDirs.push(dir);
  const first = await startWorker(dir);
  const second = await startWorker(dir);
  try {
    assert.deepEqual((await getKey('a', 'k1', first)).jwk, issuer.keys[0]);
    assert.equal(issuer.jwksRequests, 1);
    assert.deepEqual((await kvKeys(second)).map((k) => k.name), [storeKeyOf(issuer.jwksUri)], 'the second instance sees the entry');
    assert.deepEqual((await getKey('a', 'k2', second)).jwk, issuer.keys[1]);
    assert.equal(issuer.jwksRequests, 1, 'no request from the second instance');
    assert.equal(await call('/fetches', 'a', {}, second), 0);
    // Invalidated by the second, gone for the first's next cold read too.
    assert.deepEqual(await call('/invalidate', 'a', { uri: issuer.jwksUri }, second), { done: true });
    assert.deepEqual((await kvKeys(first)).map((k) => k.name), [`${storeKeyOf(issuer.jwksUri)}:invalidated`]);
    assert.deepEqual((await getKey('b', 'k1', first)).jwk, issuer.keys[0]);
    assert.equal(issuer.jwksRequests, 2, 'cache b of the first instance found nothing in KV');
  } finally {
    await Promise.all([first.dispose(), second.dispose()]);
  }
});
