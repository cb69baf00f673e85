// A shared-store adapter for Cloudflare Workers KV (see js/shared-store.js for the interface):
// the KV namespace binding a Worker receives in `env`. KV is eventually consistent (a write or a
// delete may take 60 s or more to be seen in other locations) and has neither a lock nor pub/sub:
// isolates share fetched sets through it, but an invalidation reaches the other isolates only as
// their copies expire (their TTL) or when they read the store after the delete has spread.

/** KV keeps an entry at least this long (its minimum `expirationTtl`). */
const MIN_TTL_SECONDS = 60;

export function workersKvStore(namespace) {
  if (namespace === null || typeof namespace !== 'object' || !['get', 'put', 'delete'].every((name) => typeof namespace[name] === 'function')) {
    throw new TypeError('workersKvStore takes a KV namespace binding');
  }
  return {
    get: (key) => namespace.get(key, 'text'),
    set: (key, value, ttlMs) => namespace.put(key, value, { expirationTtl: Math.max(MIN_TTL_SECONDS, Math.ceil(ttlMs / 1000)) }),
    delete: (key) => namespace.delete(key),
  };
}
