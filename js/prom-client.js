// `registerJwksCacheMetrics(cache, register)`: the cache's figures in a prom-client registry, the
// same as `cache.metrics()` gives in text. The registry is the caller's (prom-client's default
// `register`, or a `new Registry()`); this module imports nothing from prom-client. Each metric is
// registered as an object whose get() reads the cache's counters when the registry is scraped.

export function registerJwksCacheMetrics(cache, register) {
  if (typeof cache?.metricsSnapshot !== 'function') throw new TypeError('registerJwksCacheMetrics takes a jwks-cache cache');
  if (typeof register?.registerMetric !== 'function') throw new TypeError('registerJwksCacheMetrics takes a prom-client registry');
  const metric = (name, type, help, values) => ({
    name,
    help,
    type,
    aggregator: 'sum',
    // `this.name`: an OpenMetrics registry renames a counter's family (drops `_total`) and then
    // appends `_total` to its samples itself.
    async get() {
      return { name: this.name, help, type, aggregator: 'sum', values: values(cache.metricsSnapshot()) };
    },
    reset() {},
  });
  const plain = (name, help, pick) => metric(name, 'counter', help, (snapshot) => [{ value: pick(snapshot), labels: {} }]);
  const labelled = (name, label, help) =>
    metric(name, 'counter', help, (snapshot) =>
      Object.entries(snapshot.labelled[name] ?? {}).map(([value, count]) => ({ value: count, labels: { [label]: value } })),
    );
  const metrics = [
    plain('jwt_jwks_cache_hits_total', 'Key lookups answered from a fresh cached set.', (s) => s.hits),
    plain('jwt_jwks_cache_stale_hits_total', 'Key lookups answered from a stale cached set.', (s) => s.staleHits),
    plain('jwt_jwks_cache_misses_total', 'Key lookups whose kid no cached set held (fetched, waited for, or answered null).', (s) => s.misses),
    plain('jwt_jwks_cache_invalidations_total', 'Invalidations of a cached JWKS.', (s) => s.invalidations),
    plain('jwt_jwks_cache_invalidation_errors_total', 'Invalidations whose shared part (store, other instances) failed.', (s) => s.invalidationErrors),
    labelled('jwt_jwks_cache_fetches_total', 'result', 'JWKS fetches from the issuer, by result.'),
    labelled('jwt_jwks_cache_fetch_errors_total', 'code', 'Failed JWKS fetches from the issuer, by error code.'),
    labelled('jwt_jwks_cache_store_reads_total', 'result', 'Reads of the shared store, by result (hit: a set it held answered a fetch).'),
    labelled('jwt_jwks_cache_store_errors_total', 'operation', 'Shared store operations that failed or timed out, by operation.'),
    labelled('jwt_jwks_cache_refresh_suppressed_total', 'reason', 'Lookups that wanted a fetch and were answered from the cache, by reason.'),
    metric('jwt_jwks_cache_fetch_duration_seconds', 'histogram', 'Duration of JWKS fetches from the issuer, retries included.', ({ durations }) => [
      ...durations.buckets.map(([le, count]) => ({ metricName: 'jwt_jwks_cache_fetch_duration_seconds_bucket', value: count, labels: { le } })),
      { metricName: 'jwt_jwks_cache_fetch_duration_seconds_bucket', value: durations.count, labels: { le: '+Inf' } },
      { metricName: 'jwt_jwks_cache_fetch_duration_seconds_sum', value: durations.sum, labels: {} },
      { metricName: 'jwt_jwks_cache_fetch_duration_seconds_count', value: durations.count, labels: {} },
    ]),
    metric('jwt_jwks_cache_entries', 'gauge', 'JWKS URIs the cache holds a set for.', (s) => [{ value: s.entries, labels: {} }]),
  ];
  for (const each of metrics) register.registerMetric(each);
}
