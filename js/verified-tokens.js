// The verified-token cache: tokens whose signature checked, so that a token presented again (a
// session's bearer token, on every request) costs a map lookup and the claim checks instead of a
// signature check. Keyed by the full token string: two spellings of one token are two entries,
// and the core refuses every spelling but the canonical one anyway.
//
// Bounded by count (maxVerifiedTokens, 0 turns it off); the oldest entry goes first. Only tokens
// that verified get in, so filling it takes tokens signed by the issuer. Whether an entry still
// holds (same set, not past exp) is for verify.js to decide on each use. Each entry owns a
// CheckedToken, which lives in wasm memory: it is freed when the entry goes.

export class VerifiedTokens {
  #max;
  #entries = new Map();

  /** @param {number} max the most tokens remembered (the core checked it: 0 to 100000) */
  constructor(max) {
    this.#max = max;
  }

  get(token) {
    return this.#entries.get(token);
  }

  /** Keeps `entry` ({ checked, ... }) for `token`, or frees its CheckedToken when off. */
  remember(token, entry) {
    if (this.#max === 0) return entry.checked.free();
    this.forget(token);
    if (this.#entries.size >= this.#max) this.forget(this.#entries.keys().next().value);
    this.#entries.set(token, entry);
  }

  forget(token) {
    const entry = this.#entries.get(token);
    if (entry === undefined) return;
    this.#entries.delete(token);
    entry.checked.free();
  }

  clear() {
    for (const entry of this.#entries.values()) entry.checked.free();
    this.#entries.clear();
  }

  get size() {
    return this.#entries.size;
  }
}
