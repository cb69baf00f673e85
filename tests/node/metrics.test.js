// cache.metrics() (the Prometheus text exposition) and the prom-client adapter, checked by
// promtool (tests/support/promtool.js: the reference parser and linter) and by value: one scenario
// that moves every counter, each figure asserted on its own; the empty exposition of a new cache;
// label values that need escaping; the adapter's samples beside cache.metrics()'s; and the hot
// path's count. Durations are made exact by a Date.now() that only the test moves (the cache times
// its fetches with Date.now(); its own clock, the `now` option, is another simulated one).

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createJwksCache } from 'jwks-cache';
import { registerJwksCacheMetrics } from 'jwks-cache/prom-client';
// Not a public entry: the class behind cache.metrics(), to feed it label values no cache makes.
import { Telemetry } from '../../node_modules/jwks-cache/telemetry.js';
import { checkMetrics } from '../support/promtool.js';
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

/** Upper bounds of the fetch duration histogram (js/telemetry.js), as they are written. */
const BUCKETS = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf'];

/** Every metric family cache.metrics() writes, and its TYPE. */
const FAMILIES = {
  jwt_jwks_cache_hits_total: 'counter',
  jwt_jwks_cache_stale_hits_total: 'counter',
  jwt_jwks_cache_misses_total: 'counter',
  jwt_jwks_cache_invalidations_total: 'counter',
  jwt_jwks_cache_invalidation_errors_total: 'counter',
  jwt_jwks_cache_fetches_total: 'counter',
  jwt_jwks_cache_fetch_errors_total: 'counter',
  jwt_jwks_cache_store_reads_total: 'counter',
  jwt_jwks_cache_store_errors_total: 'counter',
  jwt_jwks_cache_refresh_suppressed_total: 'counter',
  jwt_jwks_cache_fetch_duration_seconds: 'histogram',
  jwt_jwks_cache_entries: 'gauge',
};

/**
 * A parser of the text format (0.0.4), strict enough to catch what promtool lets through (a
 * series written twice, a histogram whose buckets disagree): `{ types, helps, samples, value }`,
 * samples as [{ name, labels, value }], value(name, labels) the one sample's value (undefined
 * when absent). Label values are unescaped (\\, \", \n), so that they compare with what was given.
 */
function parseExposition(text) {
  const types = new Map();
  const helps = new Map();
  const samples = [];
  const seen = new Set();
  for (const [index, line] of text.split('\n').entries()) {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      if (comment === null) continue;
      const [, kind, name, rest] = comment;
      const into = kind === 'TYPE' ? types : helps;
      assert.ok(!into.has(name), `${kind} twice for ${name}, ${where}`);
      into.set(name, rest);
      continue;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    assert.ok(nameMatch, `no metric name, ${where}`);
    const name = nameMatch[0];
    let at = name.length;
    const labels = {};
    if (line[at] === '{') {
      at += 1;
      while (line[at] !== '}') {
        const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(at));
        assert.ok(labelMatch, `bad label, ${where}`);
        at += labelMatch[0].length;
        let value = '';
        for (;;) {
          const char = line[at];
          assert.ok(char !== undefined, `unterminated label value, ${where}`);
          at += 1;
          if (char === '"') break;
          if (char === '\\') {
            const escaped = line[at];
            at += 1;
            assert.ok(['\\', '"', 'n'].includes(escaped), `bad escape \\${escaped}, ${where}`);
            value += escaped === 'n' ? '\n' : escaped;
          } else {
            value += char;
          }
        }
        assert.ok(!(labelMatch[1] in labels), `label ${labelMatch[1]} twice, ${where}`);
        labels[labelMatch[1]] = value;
        if (line[at] === ',') at += 1;
        else assert.equal(line[at], '}', `expected , or } in ${where}`);
      }
      at += 1;
    }
    assert.equal(line[at], ' ', `expected a space before the value, ${where}`);
    const rawValue = line.slice(at + 1);
    assert.match(rawValue, /^(?:[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?|[-+]Inf|NaN)$/, `value (no timestamp expected), ${where}`);
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : Number(rawValue);
    const key = seriesKey(name, labels);
    assert.ok(!seen.has(key), `series written twice: ${key}`);
    seen.add(key);
    samples.push({ name, labels, value });
  }
  const byKey = new Map(samples.map((sample) => [seriesKey(sample.name, sample.labels), sample.value]));
  return { types, helps, samples, value: (name, labels = {}) => byKey.get(seriesKey(name, labels)) };
}

function seriesKey(name, labels) {
  const sorted = Object.keys(labels)
    .sort()
    .map((label) => [label, labels[label]]);
  return `${name}${JSON.stringify(sorted)}`;
}

/** The family a sample belongs to (a histogram's _bucket/_sum/_count go to the histogram). */
function familyOf(name, types) {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return types.get(base) === 'histogram' ? base : undefined;
}

/**
 * What every exposition must be: promtool's verdict clean (exit 0: it parses, no lint problem),
 * the families and types above and no other, each sample in a declared family, and the
 * histogram's buckets cumulative, the +Inf one equal to _count. Returns the parse.
 */
async function checkExposition(text) {
  const verdict = await checkMetrics(text);
  assert.deepEqual(verdict.problems, [], verdict.output);
  assert.equal(verdict.code, 0, verdict.output);
  assert.ok(verdict.ok, verdict.output);
  const parsed = parseExposition(text);
  assert.deepEqual(Object.fromEntries(parsed.types), FAMILIES);
  assert.deepEqual([...parsed.helps.keys()].sort(), Object.keys(FAMILIES).sort(), 'a HELP line for each family');
  for (const { name } of parsed.samples) assert.ok(familyOf(name, parsed.types), `${name} has a TYPE`);
  const duration = 'jwt_jwks_cache_fetch_duration_seconds';
  const buckets = BUCKETS.map((le) => parsed.value(`${duration}_bucket`, { le }));
  assert.ok(buckets.every((n) => Number.isInteger(n)), `every bucket written: ${buckets}`);
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i] >= buckets[i - 1], `cumulative buckets: ${buckets}`);
  assert.equal(buckets.at(-1), parsed.value(`${duration}_count`), '+Inf bucket = _count');
  assert.equal(parsed.samples.filter((s) => s.name === `${duration}_bucket`).length, BUCKETS.length, 'no other bucket');
  return parsed;
}

/** A fetch option that goes to the real network, after moving the test's Date.now() by the next delay. */
function timedFetch(clock, delaysMs) {
  return (input, init) => {
    const delay = delaysMs.shift();
    assert.ok(delay !== undefined, 'a fetch the scenario did not plan');
    clock.wall += delay;
    return globalThis.fetch(input, init);
  };
}

test('a new cache: every figure zero, and promtool passes the exposition as it is', async () => {
  const cache = createJwksCache();
  const text = cache.metrics();
  const metrics = await checkExposition(text);
  for (const name of [
    'jwt_jwks_cache_hits_total',
    'jwt_jwks_cache_stale_hits_total',
    'jwt_jwks_cache_misses_total',
    'jwt_jwks_cache_invalidations_total',
    'jwt_jwks_cache_invalidation_errors_total',
    'jwt_jwks_cache_entries',
    'jwt_jwks_cache_fetch_duration_seconds_sum',
    'jwt_jwks_cache_fetch_duration_seconds_count',
  ]) {
    assert.equal(metrics.value(name), 0, name);
  }
  for (const le of BUCKETS) assert.equal(metrics.value('jwt_jwks_cache_fetch_duration_seconds_bucket', { le }), 0, le);
  // The labelled counters have no series until a label value occurs: HELP and TYPE alone.
  const labelled = metrics.samples.filter((s) => Object.keys(s.labels).some((label) => label !== 'le'));
  assert.deepEqual(labelled, []);
  assert.equal(metrics.samples.length, 5 + BUCKETS.length + 2 + 1);
  // The same holds for the prom-client registry of a new cache.
  const registry = new Registry();
  registerJwksCacheMetrics(cache, registry);
  await checkExposition(await registry.metrics());
});

test('a scenario that moves every counter: promtool passes it, and each figure is exactly what happened', async (t) => {
  // The cache times fetches with Date.now(): each fetch moves it by the delay planned for it.
  const clock = { wall: 1_800_000_000_000 };
  t.mock.method(Date, 'now', () => clock.wall);
  const delaysMs = [3, 20, 700, 12_000, 0];
  // The cache's own clock (freshness, backoff), moved by the scenario.
  let now = 1_700_000_000_000;
  // A store whose get and set always reject, and whose delete rejects until told otherwise.
  let deleteFails = true;
  const store = {
    get: async () => {
      throw new Error('ECONNREFUSED 127.0.0.1:6379');
    },
    // Only an invalidation's tombstone is taken (so that the second invalidation succeeds).
    set: (key) => (key.endsWith(':invalidated') ? Promise.resolve() : Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379'))),
    delete: async () => {
      if (deleteFails) throw new Error('READONLY You cannot write against a read only replica.');
    },
  };
  const cache = createJwksCache({ ttlMs: 60_000, maxRetries: 0, now: () => now, store, storeTimeoutMs: 1_000, fetch: timedFetch(clock, delaysMs) });
  const uri = issuer.jwksUri;

  // A miss (fetch 1: 3 ms), then three hits.
  assert.equal((await cache.getKey(uri, 'k1')).kid, 'k1');
  for (let i = 0; i < 3; i++) assert.equal((await cache.getKey(uri, 'k1')).kid, 'k1');
  // An unknown kid refetches once (a miss; fetch 2: 20 ms); the next two are held back by the
  // refetch budget, answered null from the fresh set.
  assert.equal(await cache.getKey(uri, 'junk-0'), null);
  assert.equal(await cache.getKey(uri, 'junk-1'), null);
  assert.equal(await cache.getKey(uri, 'junk-2'), null);
  // The set goes stale and the issuer fails: a stale hit whose background refresh fails
  // (fetch 3: 700 ms, HTTP 503), then, during the failure backoff, a stale hit and an unknown kid
  // held back by the backoff.
  now += 60_000;
  issuer.behave('status', 503);
  const background = [];
  assert.equal((await cache.getKey(uri, 'k1', { waitUntil: (work) => background.push(work) })).kid, 'k1');
  assert.equal(background.length, 1, 'the stale hit started a background refresh');
  await Promise.all(background);
  assert.equal((await cache.getKey(uri, 'k1')).kid, 'k1');
  assert.equal(await cache.getKey(uri, 'junk-3'), null);
  assert.ok(cache.status(uri).retryAt > now, 'the backoff is on');
  // An invalidation whose store delete fails, then a miss (fetch 4: 12 s, past every bucket but
  // +Inf); an invalidation that succeeds, then a miss (fetch 5: 0 ms).
  // (Past the backoff first: an invalidation does not lift it.)
  issuer.behave('ok');
  now += 30_000;
  assert.equal(await cache.invalidate(uri, { reason: 'test' }), false);
  assert.equal((await cache.getKey(uri, 'k1')).kid, 'k1');
  deleteFails = false;
  assert.equal(await cache.invalidate(uri), true);
  assert.equal((await cache.getKey(uri, 'k1')).kid, 'k1');
  assert.deepEqual(delaysMs, [], 'every planned fetch happened');
  assert.equal(issuer.jwksRequests, 5);

  const text = cache.metrics();
  const metrics = await checkExposition(text);
  const figure = (name, labels) => metrics.value(name, labels);
  // Lookups. The three unknown kids held back (two by the refetch budget, one by the backoff) are
  // misses: the cached set did not hold their kid (cache.js #countAnswer).
  assert.equal(figure('jwt_jwks_cache_hits_total'), 3, 'hits: 3 warm k1');
  assert.equal(figure('jwt_jwks_cache_stale_hits_total'), 2, 'stale hits: k1 twice');
  assert.equal(figure('jwt_jwks_cache_misses_total'), 7, 'misses: cold, junk-0, after each invalidation, and the 3 held back');
  // Fetches.
  assert.equal(figure('jwt_jwks_cache_fetches_total', { result: 'success' }), 4);
  assert.equal(figure('jwt_jwks_cache_fetches_total', { result: 'failure' }), 1);
  assert.equal(figure('jwt_jwks_cache_fetch_errors_total', { code: 'ERR_JWKS_HTTP_STATUS' }), 1);
  // Refreshes held back.
  assert.equal(figure('jwt_jwks_cache_refresh_suppressed_total', { reason: 'refetch_budget' }), 2);
  assert.equal(figure('jwt_jwks_cache_refresh_suppressed_total', { reason: 'backoff' }), 1);
  // The store: a read before each of the 5 fetches (each fails: a miss), a write after each of
  // the 4 successful ones, and 1 failed delete.
  assert.equal(figure('jwt_jwks_cache_store_reads_total', { result: 'miss' }), 5);
  assert.equal(figure('jwt_jwks_cache_store_reads_total', { result: 'hit' }), undefined);
  assert.equal(figure('jwt_jwks_cache_store_errors_total', { operation: 'get' }), 5);
  assert.equal(figure('jwt_jwks_cache_store_errors_total', { operation: 'set' }), 4);
  assert.equal(figure('jwt_jwks_cache_store_errors_total', { operation: 'delete' }), 1);
  // Invalidations.
  assert.equal(figure('jwt_jwks_cache_invalidations_total'), 2);
  assert.equal(figure('jwt_jwks_cache_invalidation_errors_total'), 1);
  // Fetch durations: 0.003, 0.02, 0.7, 12 and 0 s.
  const durations = [0.003, 0.02, 0.7, 12, 0];
  const expectedBuckets = Object.fromEntries(
    BUCKETS.map((le) => [le, durations.filter((seconds) => le === '+Inf' || seconds <= Number(le)).length]),
  );
  assert.deepEqual(expectedBuckets, { '0.005': 2, '0.01': 2, '0.025': 3, '0.05': 3, '0.1': 3, '0.25': 3, '0.5': 3, '1': 4, '2.5': 4, '5': 4, '10': 4, '+Inf': 5 });
  for (const le of BUCKETS) assert.equal(figure('jwt_jwks_cache_fetch_duration_seconds_bucket', { le }), expectedBuckets[le], `bucket le=${le}`);
  assert.equal(figure('jwt_jwks_cache_fetch_duration_seconds_count'), 5);
  assert.equal(figure('jwt_jwks_cache_fetch_duration_seconds_sum'), durations.reduce((sum, seconds) => sum + seconds, 0));
  // The gauge.
  assert.equal(figure('jwt_jwks_cache_entries'), 1);
  // And nothing else: every series is one of those asserted above.
  assert.equal(metrics.samples.length, 5 + 2 + 1 + 2 + 1 + 3 + BUCKETS.length + 2 + 1, text);
  // metricsSnapshot() agrees (the adapter's source).
  const snapshot = cache.metricsSnapshot();
  assert.deepEqual([snapshot.hits, snapshot.staleHits, snapshot.misses, snapshot.invalidations, snapshot.invalidationErrors, snapshot.entries], [3, 2, 7, 2, 1, 1]);
  cache.close();
});

test('label values: nothing from outside reaches a label, and values that need escaping cannot break the format', async (t) => {
  // What a cache can put in a label comes from fixed sets (error codes the core decides, store
  // operation names, fetch results, suppression reasons). Hostile text from outside, in the places
  // a cache reads it (a fetch's error and its code, a store's error and its code, a reason, a
  // URI), stays out of the labels.
  const hostile = 'evil"} 1\n# TYPE x counter\nx{a="\\';
  const thrown = () => Object.assign(new Error(hostile), { code: hostile, name: hostile });
  const store = { get: async () => { throw thrown(); }, set: async () => { throw thrown(); }, delete: async () => { throw thrown(); } };
  const cache = createJwksCache({ maxRetries: 0, store, fetch: async () => { throw thrown(); } });
  const uri = `${issuer.origin}/jwks?q=%22%7D%0A`;
  await assert.rejects(cache.getKey(uri, 'k1'), { code: 'ERR_JWKS_NETWORK' });
  const answering = createJwksCache({ maxRetries: 0, store, fetch: async () => new Response(hostile, { status: 200 }) });
  await assert.rejects(answering.getKey(issuer.jwksUri, 'k1'), { code: 'ERR_JWKS_INVALID_JSON' });
  for (const each of [cache, answering]) {
    assert.equal(await each.invalidate(uri, { reason: hostile }), false);
    const metrics = await checkExposition(each.metrics());
    const labelValues = new Map();
    for (const { labels } of metrics.samples) {
      for (const [label, value] of Object.entries(labels)) {
        if (!labelValues.has(label)) labelValues.set(label, new Set());
        labelValues.get(label).add(value);
      }
    }
    for (const [label, values] of labelValues) {
      for (const value of values) {
        const allowed = {
          le: BUCKETS,
          result: ['success', 'failure', 'hit', 'miss'],
          operation: ['get', 'set', 'delete', 'lock', 'publish', 'subscribe'],
          reason: ['refetch_budget', 'backoff'],
        }[label];
        if (allowed !== undefined) {
          assert.ok(allowed.includes(value), `${label}="${value}"`);
        } else {
          assert.equal(label, 'code');
          assert.match(value, /^ERR_[A-Z_]+$/, `code="${value}"`);
        }
      }
    }
    assert.ok(labelValues.get('code').size >= 1);
  }

  // The escaping itself, fed directly every character the format gives a meaning to, and more.
  const nasty = ['quote " inside', 'back\\slash', 'new\nline', 'trailing \\', '\\"', '\\n (not a newline)', '}{,= # HELP', 'cr\rtab\tnul\u0000', 'é€😀 \u2028', ''];
  const telemetry = new Telemetry({});
  for (const value of nasty) for (let i = 0; i < 2; i++) telemetry.count('jwt_jwks_cache_fetch_errors_total', value);
  telemetry.count('jwt_jwks_cache_store_errors_total', 'a"b\nc');
  const text = telemetry.prometheus({ entries: 0 });
  const metrics = await checkExposition(text);
  for (const value of nasty) assert.equal(metrics.value('jwt_jwks_cache_fetch_errors_total', { code: value }), 2, JSON.stringify(value));
  assert.equal(metrics.value('jwt_jwks_cache_store_errors_total', { operation: 'a"b\nc' }), 1);
  assert.equal(metrics.samples.filter((s) => s.name === 'jwt_jwks_cache_fetch_errors_total').length, nasty.length);
  // Each sample on its own line: no raw line feed inside a label.
  assert.equal(text.split('\n').filter((line) => line.startsWith('jwt_jwks_cache_fetch_errors_total{')).length, nasty.length);
  // The same values through the prom-client adapter (prom-client escapes them itself).
  const registry = new Registry();
  registerJwksCacheMetrics({ metricsSnapshot: () => ({ ...telemetry.snapshot(), entries: 0 }) }, registry);
  const viaRegistry = await checkExposition(await registry.metrics());
  assert.deepEqual(comparable(viaRegistry), comparable(metrics));
  cache.close();
  answering.close();
  t.diagnostic('label values round-trip through the text and through prom-client');
});

/** Samples as sorted comparable strings: name, labels and value; and each family's TYPE. */
function comparable({ samples, types }) {
  return {
    samples: samples.map(({ name, labels, value }) => `${seriesKey(name, labels)} ${value}`).sort(),
    types: Object.fromEntries([...types].sort(([a], [b]) => (a < b ? -1 : 1))),
  };
}

test('the prom-client adapter: a Registry gives the same samples and types as cache.metrics(), and promtool passes it', async () => {
  let now = 1_700_000_000_000;
  const cache = createJwksCache({ ttlMs: 60_000, maxRetries: 0, now: () => now, store: { get: async () => null, set: async () => {}, delete: async () => { throw new Error('down'); } } });
  const uri = issuer.jwksUri;
  // Some of everything: hits, a miss, a held-back kid, a stale hit with a failed refresh, a failed invalidation.
  await cache.getKey(uri, 'k1');
  await cache.getKey(uri, 'k1');
  await cache.getKey(uri, 'nope-1');
  await cache.getKey(uri, 'nope-2');
  now += 60_000;
  issuer.behave('garbage');
  const background = [];
  await cache.getKey(uri, 'k1', { waitUntil: (work) => background.push(work) });
  await Promise.all(background);
  assert.equal(await cache.invalidate(uri), false);
  issuer.behave('ok');
  now += 30_000; // past the failure's backoff, which an invalidation does not lift
  await cache.getKey(uri, 'k1');

  const registry = new Registry();
  registerJwksCacheMetrics(cache, registry);
  const [fromRegistry, fromCache] = [await registry.metrics(), cache.metrics()];
  const registryMetrics = await checkExposition(fromRegistry);
  const cacheMetrics = await checkExposition(fromCache);
  assert.deepEqual(comparable(registryMetrics), comparable(cacheMetrics));
  // Labelled series present on both sides (not just equal because empty).
  assert.equal(registryMetrics.value('jwt_jwks_cache_fetch_errors_total', { code: 'ERR_JWKS_INVALID_JSON' }), 1);
  assert.equal(registryMetrics.value('jwt_jwks_cache_store_errors_total', { operation: 'delete' }), 1);
  assert.equal(registryMetrics.value('jwt_jwks_cache_store_reads_total', { result: 'miss' }), 4);
  // A scrape reads the cache as it is then.
  await cache.getKey(uri, 'k1');
  const later = parseExposition(await registry.metrics());
  assert.equal(later.value('jwt_jwks_cache_hits_total'), registryMetrics.value('jwt_jwks_cache_hits_total') + 1);
  assert.deepEqual(comparable(later), comparable(parseExposition(cache.metrics())));
});

test(
  'the prom-client adapter in an OpenMetrics registry names its counter samples as cache.metrics() does',
  async () => {
    const cache = createJwksCache();
    await cache.getKey(issuer.jwksUri, 'k1');
    const registry = new Registry(Registry.OPENMETRICS_CONTENT_TYPE);
    registerJwksCacheMetrics(cache, registry);
    const text = await registry.metrics();
    const names = new Set(text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).map((line) => /^[^{ ]+/.exec(line)[0]));
    const expected = new Set(parseExposition(cache.metrics()).samples.map((s) => s.name));
    assert.deepEqual([...names].sort(), [...expected].sort());
  },
);

test('the hot path counts: 10 000 warm getKey calls raise hits_total by exactly 10 000', async () => {
  const now = 1_700_000_000_000;
  const cache = createJwksCache({ now: () => now });
  const uri = issuer.jwksUri;
  await cache.getKey(uri, 'k1');
  const before = parseExposition(cache.metrics());
  const calls = [];
  for (let i = 0; i < 10_000; i++) calls.push(cache.getKey(uri, 'k1'));
  const keys = await Promise.all(calls);
  assert.ok(keys.every((jwk) => jwk?.kid === 'k1'));
  const after = parseExposition(cache.metrics());
  assert.equal(after.value('jwt_jwks_cache_hits_total') - before.value('jwt_jwks_cache_hits_total'), 10_000);
  for (const name of ['jwt_jwks_cache_misses_total', 'jwt_jwks_cache_stale_hits_total']) assert.equal(after.value(name), before.value(name), name);
  assert.equal(after.value('jwt_jwks_cache_fetches_total', { result: 'success' }), 1);
  assert.equal(issuer.jwksRequests, 1);
  // Awaited one by one as well (each call's promise settled before the next starts).
  for (let i = 0; i < 10_000; i++) await cache.getKey(uri, 'k1');
  assert.equal(parseExposition(cache.metrics()).value('jwt_jwks_cache_hits_total') - before.value('jwt_jwks_cache_hits_total'), 20_000);
});
