import { describe } from './errors.js';

// What the cache tells its operators: audit events (`onEvent`), log lines (`logger`) and counters
// in the Prometheus text format (`cache.metrics()`). Nothing here decides anything, and nothing a
// user's callback does (throw, return a rejected promise, take long) reaches a lookup.

/** Every event's `action`. */
export const ACTIONS = Object.freeze({
  REFRESHED: 'JWKS_CACHE_REFRESHED',
  REFRESH_FAILED: 'JWKS_CACHE_REFRESH_FAILED',
  STALE_SERVED: 'JWKS_CACHE_STALE_SERVED',
  REFRESH_SUPPRESSED: 'JWKS_CACHE_REFRESH_SUPPRESSED',
  STORE_ERROR: 'JWKS_CACHE_STORE_ERROR',
  INVALIDATED: 'JWKS_CACHE_INVALIDATED',
  INVALIDATION_FAILED: 'JWKS_CACHE_INVALIDATION_FAILED',
});

/** The log level of each action: failures at warn, invalidations at info, the rest at debug. */
const LEVELS = {
  JWKS_CACHE_REFRESHED: 'debug',
  JWKS_CACHE_REFRESH_FAILED: 'warn',
  JWKS_CACHE_STALE_SERVED: 'warn',
  JWKS_CACHE_REFRESH_SUPPRESSED: 'debug',
  JWKS_CACHE_STORE_ERROR: 'warn',
  JWKS_CACHE_INVALIDATED: 'info',
  JWKS_CACHE_INVALIDATION_FAILED: 'warn',
};

/** Upper bounds of the fetch duration histogram, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Each labelled counter: its help text and label name. Label values come from a fixed set. */
const LABELLED = {
  jwt_jwks_cache_fetches_total: ['JWKS fetches from the issuer, by result.', 'result'],
  jwt_jwks_cache_fetch_errors_total: ['Failed JWKS fetches from the issuer, by error code.', 'code'],
  jwt_jwks_cache_store_reads_total: ['Reads of the shared store, by result (hit: a set it held answered a fetch).', 'result'],
  jwt_jwks_cache_store_errors_total: ['Shared store operations that failed or timed out, by operation.', 'operation'],
  jwt_jwks_cache_refresh_suppressed_total: ['Lookups that wanted a fetch and were answered from the cache, by reason.', 'reason'],
};

export class Telemetry {
  /** Lookups answered from a fresh cached set (the hot path counts here: a field, nothing else). */
  hits = 0;
  /** Lookups answered from a stale set (stale-while-revalidate, stale-if-error). */
  staleHits = 0;
  /** Lookups whose kid no cached set held: they fetched, waited on a fetch, or were answered null. */
  misses = 0;
  invalidations = 0;
  invalidationErrors = 0;
  /** Whether hits and misses are logged (a logger with a debug method). */
  debugging = false;
  #onEvent;
  #logger;
  #now;
  /** Counter name -> label value -> count. */
  #labelled = new Map(Object.keys(LABELLED).map((name) => [name, new Map()]));
  #durations = { buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };

  constructor({ onEvent, logger, now }) {
    this.#onEvent = onEvent;
    this.#logger = logger;
    this.#now = now;
    try {
      this.debugging = typeof logger?.debug === 'function';
    } catch {
      // A logger whose members cannot be read logs nothing at debug.
      this.debugging = false;
    }
  }

  /** Adds one to a labelled counter. */
  count(name, label) {
    const counts = this.#labelled.get(name);
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }

  /** One fetch from the issuer took this long (retries included). */
  observeFetch(seconds) {
    const durations = this.#durations;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (seconds <= DURATION_BUCKETS[i]) durations.buckets[i] += 1;
    durations.sum += seconds;
    durations.count += 1;
  }

  /**
   * Emits an event `{ action, timestamp, ...context }` to `onEvent` and the logger. `timestamp` is
   * an ISO 8601 string from the cache's clock (the wall clock if that one fails).
   */
  event(action, context) {
    if (this.#onEvent === undefined && this.#logger === undefined) return;
    const event = { action, timestamp: this.#timestamp(), ...context };
    if (this.#onEvent !== undefined) {
      try {
        // A copy: what the handler does to it is not what the logger gets.
        const returned = this.#onEvent({ ...event });
        // An async handler's rejection is its own business, not an unhandled one of ours.
        if (typeof returned?.catch === 'function') returned.catch(() => {});
      } catch {
        // A throwing onEvent never breaks a lookup.
      }
    }
    this.log(LEVELS[action], event, action);
  }

  /** A log line at `level`, in the pino convention `(object, message)`; console prints both. */
  log(level, context, message) {
    try {
      const write = this.#logger?.[level];
      if (typeof write !== 'function') return;
      const returned = write.call(this.#logger, context, message);
      // An async logger's rejection would be an unhandled one (which ends a Node process).
      if (typeof returned?.catch === 'function') returned.catch(() => {});
    } catch {
      // A logger that throws (or whose members cannot be read) never breaks a lookup either.
    }
  }

  #timestamp() {
    let now;
    try {
      now = this.#now();
    } catch {
      now = undefined;
    }
    const date = new Date(typeof now === 'number' ? now : Date.now());
    return Number.isNaN(date.getTime()) ? new Date().toISOString() : date.toISOString();
  }

  /** The counters, for cache.metrics() and the prom-client adapter. */
  snapshot() {
    return {
      hits: this.hits,
      staleHits: this.staleHits,
      misses: this.misses,
      invalidations: this.invalidations,
      invalidationErrors: this.invalidationErrors,
      labelled: Object.fromEntries([...this.#labelled].map(([name, counts]) => [name, Object.fromEntries(counts)])),
      durations: { buckets: DURATION_BUCKETS.map((le, i) => [le, this.#durations.buckets[i]]), sum: this.#durations.sum, count: this.#durations.count },
    };
  }

  /** Every metric in the Prometheus text exposition format (version 0.0.4). */
  prometheus(gauges) {
    const figures = this.snapshot();
    const lines = [];
    const metric = (name, type, help, samples) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [suffix, labels, value] of samples) lines.push(`${name}${suffix}${labels} ${value}`);
    };
    const plain = (name, help, value) => metric(name, 'counter', help, [['', '', value]]);
    plain('jwt_jwks_cache_hits_total', 'Key lookups answered from a fresh cached set.', figures.hits);
    plain('jwt_jwks_cache_stale_hits_total', 'Key lookups answered from a stale cached set.', figures.staleHits);
    plain('jwt_jwks_cache_misses_total', 'Key lookups whose kid no cached set held (fetched, waited for, or answered null).', figures.misses);
    plain('jwt_jwks_cache_invalidations_total', 'Invalidations of a cached JWKS.', figures.invalidations);
    plain('jwt_jwks_cache_invalidation_errors_total', 'Invalidations whose shared part (store, other instances) failed.', figures.invalidationErrors);
    for (const [name, [help, label]] of Object.entries(LABELLED)) {
      const samples = Object.entries(figures.labelled[name]).map(([value, count]) => ['', `{${label}="${escapeLabel(value)}"}`, count]);
      metric(name, 'counter', help, samples);
    }
    const { buckets, sum, count } = figures.durations;
    metric('jwt_jwks_cache_fetch_duration_seconds', 'histogram', 'Duration of JWKS fetches from the issuer, retries included.', [
      ...buckets.map(([le, n]) => ['_bucket', `{le="${le}"}`, n]),
      ['_bucket', '{le="+Inf"}', count],
      ['_sum', '', sum],
      ['_count', '', count],
    ]);
    metric('jwt_jwks_cache_entries', 'gauge', 'JWKS URIs the cache holds a set for.', [['', '', gauges.entries]]);
    return lines.join('\n') + '\n';
  }
}

/** An error as an event carries it: its code (when it has one) and its message, bounded. */
export function errorFields(error) {
  let code;
  try {
    code = typeof error?.code === 'string' ? error.code : undefined;
  } catch {
    code = undefined;
  }
  return { code, message: describe(error) };
}

function escapeLabel(value) {
  return String(value).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
