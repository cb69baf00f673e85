// What the hot path reads: for each cached set, its time window and kid -> deeply frozen JWK.
//
// The core reads a response and says which kids it holds and where each key stands in the
// response's `keys` array; the key objects are taken from `JSON.parse` of the same body. That is
// how a JWK looks to every JS consumer (own data properties only, `__proto__` included, as a
// plain member), and it costs one native parse instead of a call across the wasm boundary per
// member. Both parsers see the same document: the core has refused it unless it is exactly one
// JSON value without duplicate member names or lone surrogates.

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @param {{ fetchedAt: number, freshUntil: number, keys: Array<string | number>, ambiguous: Array<[string, object]> }} read
 *   what the core read: `keys` alternates kid and index
 * @param {Uint8Array} body the response body the core read
 */
export function keyView(read, body) {
  const keys = new Map();
  if (read.keys.length > 0) {
    // TextDecoder skips a leading byte order mark, as the core does.
    const entries = JSON.parse(utf8.decode(body)).keys;
    for (let at = 0; at < read.keys.length; at += 2) {
      const [kid, jwk] = [read.keys[at], entries[read.keys[at + 1]]];
      // Cannot differ (both read the same bytes, copied once); checked, as a wrong key is the worst outcome.
      if (jwk?.kid !== kid) throw new Error('the core and JSON.parse read different documents');
      keys.set(kid, deepFreeze(jwk));
    }
  }
  return Object.freeze({
    fetchedAt: read.fetchedAt,
    freshUntil: read.freshUntil,
    keys,
    ambiguous: new Map(read.ambiguous),
  });
}

/** Freezes a JSON value all the way down: every caller shares it, none may change it. */
function deepFreeze(value) {
  if (value !== null && typeof value === 'object') {
    for (const member of Object.values(value)) deepFreeze(member);
    Object.freeze(value);
  }
  return value;
}
