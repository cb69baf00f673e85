import type { JwksCache } from './index.js';

/** Registers the cache's metrics (the same as `cache.metrics()`) in a prom-client registry. */
export declare function registerJwksCacheMetrics(cache: JwksCache, register: { registerMetric(metric: unknown): void }): void;
