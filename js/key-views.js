// What the hot path reads: for each cached set, its time window and kid -> deeply frozen JWK.
//
// The core checks a response and says which kids it holds and which bytes of the body hold each
// key; each key object is `JSON.parse` of those bytes. That is how a JWK looks to every JS
// consumer (own data properties only, `__proto__` included, as a plain member), and it costs one
// native parse of the keys alone instead of a call across the wasm boundary per member. Both
// parsers read the same bytes (copied once, by fetch-jwks.js): the core has refused them unless
// they are exactly one JSON value without duplicate member names or lone surrogates.

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @param {{ fetchedAt: number, freshUntil: number, keys: Array<string | number>, ambiguous: Array<[string, object]> }} read
 *   what the core read: `keys` repeats kid, start, end (the bytes of `body` that hold that key)
 * @param {Uint8Array} body the response body the core read
 */
export function keyView(read, body) {
  const keys = new Map();
  for (let at = 0; at < read.keys.length; at += 3) {
    const kid = read.keys[at];
    const jwk = JSON.parse(utf8.decode(body.subarray(read.keys[at + 1], read.keys[at + 2])));
    // Cannot differ (both read the same bytes); checked, as a wrong key is the worst outcome.
    if (jwk?.kid !== kid) throw new Error('the core and JSON.parse read different bytes');
    keys.set(kid, deepFreeze(jwk));
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
  if (Array.isArray(value)) {
    for (let at = 0; at < value.length; at++) deepFreeze(value[at]);
    Object.freeze(value);
  } else if (value !== null && typeof value === 'object') {
    // JSON.parse makes plain objects whose members are all own and enumerable.
    for (const name in value) deepFreeze(value[name]);
    Object.freeze(value);
  }
  return value;
}
