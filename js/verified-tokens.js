// The verified-token cache: tokens whose signature checked, so that a token presented again (a
// session's bearer token, on every request) costs a map lookup and the claim checks instead of a
// signature check. Keyed by the full token string: two spellings of one token are two entries,
// and the core refuses every spelling but the canonical one anyway.
//
// Bounded by count (maxVerifiedTokens, 0 turns it off); the oldest entry goes first. Only tokens
// that verified get in, so filling it takes tokens signed by the issuer. Whether an entry still
// holds (same set, not past exp) is for verify.js to decide on each use. Each entry owns what the
// core read of its token (kept in wasm memory under an id): `release` forgets it when the entry goes.

export class VerifiedTokens {
  #max;
  #release;
  #entries = new Map();

  /**
   * @param {number} max the most tokens remembered (the core checked it: 0 to 10000)
   * @param {(entry: object) => void} release called for each entry that goes, and for one not kept
   */
  constructor(max, release) {
    this.#max = max;
    this.#release = release;
  }

  get(token) {
    return this.#entries.get(token);
  }

  /** Keeps `entry` for `token`, or releases it at once when remembering is off. */
  remember(token, entry) {
    if (this.#max === 0) return this.#release(entry);
    this.forget(token);
    if (this.#entries.size >= this.#max) this.forget(this.#entries.keys().next().value);
    this.#entries.set(token, entry);
  }

  forget(token) {
    const entry = this.#entries.get(token);
    if (entry === undefined) return;
    this.#entries.delete(token);
    this.#release(entry);
  }

  clear() {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) this.#release(entry);
  }

  get size() {
    return this.#entries.size;
  }
}
