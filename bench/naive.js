// The spec's naive version, as the reference a user would write by hand: a Map per URI, fresh
// for ttlMs, refetch once on an unknown kid. No single flight, no protection of a good set.
export function createNaiveJwksCache({ ttlMs = 5 * 60 * 1000 } = {}) {
  const cache = new Map();

  async function fetchSet(jwksUri) {
    const response = await fetch(jwksUri);
    if (!response.ok) throw new Error(`Failed to fetch JWKS (${response.status})`);
    const body = await response.json();
    const keys = new Map();
    for (const jwk of Array.isArray(body.keys) ? body.keys : []) if (jwk.kid) keys.set(jwk.kid, jwk);
    const entry = { fetchedAt: Date.now(), keys };
    cache.set(jwksUri, entry);
    return entry;
  }

  return {
    async getKey(jwksUri, kid) {
      if (!jwksUri) throw new Error('JWKS URI missing');
      if (!kid) throw new Error('Token missing key id');
      let entry = cache.get(jwksUri);
      if (!entry || Date.now() - entry.fetchedAt >= ttlMs) entry = await fetchSet(jwksUri);
      let jwk = entry.keys.get(kid);
      if (!jwk) {
        cache.delete(jwksUri);
        jwk = (await fetchSet(jwksUri)).keys.get(kid);
      }
      return jwk ?? null;
    },
    clear() {
      cache.clear();
    },
  };
}
