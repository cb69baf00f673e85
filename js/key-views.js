// What the hot paths read: for each cached set, its time window, kid -> deeply frozen JWK, and
// what the core decided about each key for verification.
//
// The core checks a response and says which kids it holds and which bytes of the body hold each
// key; each key object is `JSON.parse` of those bytes. That is how a JWK looks to every JS
// consumer (own data properties only, `__proto__` included, as a plain member), and it costs one
// native parse of the keys alone instead of a call across the wasm boundary per member. Both
// parsers read the same bytes (copied once, by fetch-jwks.js): the core has refused them unless
// they are exactly one JSON value without duplicate member names or lone surrogates.
//
// Verification reads the core's decisions from the view, never re-deciding: `verifies[slot]` is
// the bit set of the algorithms a key may verify (bit i is the i-th of ALGORITHMS), and
// `kidless[alg]` the key a token without a kid selects, or -1 - the reason none is.

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The algorithms in the core's order (src/jws_header.rs, `Alg::ALL`). */
export const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/**
 * @param {{ fetchedAt: number, freshUntil: number, keys: Array<string | number>, unnamed: number[],
 *   kidless: number[], ambiguous: Array<[string, object]> }} read
 *   what the core read: `keys` repeats kid, start, end, verifies (start..end are the bytes of
 *   `body` that hold that key); `unnamed` repeats start, end, verifies for keys without a kid
 * @param {Uint8Array} body the response body the core read
 */
export function keyView(read, body) {
  const keys = new Map();
  const slots = [];
  const verifies = [];
  const slotOfKid = new Map();
  for (let at = 0; at < read.keys.length; at += 4) {
    const kid = read.keys[at];
    const jwk = parseKey(body, read.keys[at + 1], read.keys[at + 2]);
    // Cannot differ (both read the same bytes); checked, as a wrong key is the worst outcome.
    if (jwk?.kid !== kid) throw new Error('the core and JSON.parse read different bytes');
    keys.set(kid, jwk);
    slotOfKid.set(kid, slots.length);
    slots.push(jwk);
    verifies.push(read.keys[at + 3]);
  }
  for (let at = 0; at < read.unnamed.length; at += 3) {
    const jwk = parseKey(body, read.unnamed[at], read.unnamed[at + 1]);
    if (jwk === null || typeof jwk !== 'object' || 'kid' in jwk) throw new Error('the core and JSON.parse read different bytes');
    slots.push(jwk);
    verifies.push(read.unnamed[at + 2]);
  }
  return Object.freeze({
    fetchedAt: read.fetchedAt,
    freshUntil: read.freshUntil,
    keys,
    ambiguous: new Map(read.ambiguous),
    slots,
    verifies,
    slotOfKid,
    kidless: read.kidless,
    /** (slot * 16 + alg) -> the host's key for it, imported on first use (see verify.js). */
    hostKeys: new Map(),
  });
}

function parseKey(body, start, end) {
  return deepFreeze(JSON.parse(utf8.decode(body.subarray(start, end))));
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
