// The documented API over the wasm core. The core decides (freshness, single flight, what a
// response means, every error); this module does the I/O it asks for and every `await`, so that
// each await runs in the calling request's own context (see src/wasm.rs for why that matters in
// workerd).

import { CacheCore } from './wasm/jwks_cache.js';
import { fetchJwks } from './fetch-jwks.js';
import { JwksArgumentError, toPublicError } from './errors.js';

/** What a caller waiting on another caller's fetch gets when that fetch is presumed lost. */
const LOST = Symbol('lost fetch');

export function createJwksCache(options) {
  return new JwksCache(options);
}

export class JwksCache {
  #core;
  /** The core's published sets: URI -> { freshUntil, keys, ambiguous }. Read, never written here. */
  #views;
  #now;
  #fetch;
  /** Flight id -> callbacks of the callers waiting on that fetch. */
  #waiters = new Map();

  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: options must be an object');
    }
    const { ttlMs, timeoutMs, fetch, now } = options;
    for (const [name, value] of [['fetch', fetch], ['now', now]]) {
      if (value !== undefined && typeof value !== 'function') {
        throw new JwksArgumentError('ERR_INVALID_OPTION', `Invalid option: ${name} must be a function`);
      }
    }
    try {
      this.#core = new CacheCore(ttlMs, timeoutMs);
    } catch (raw) {
      throw toPublicError(raw);
    }
    this.#views = this.#core.views;
    this.#now = now ?? Date.now;
    // Looked up on each call, so that a fetch installed later (test doubles, polyfills) is used.
    this.#fetch = fetch ?? ((input, init) => globalThis.fetch(input, init));
    // Usable detached too: `const { getKey } = cache`.
    this.getKey = this.getKey.bind(this);
    this.clear = this.clear.bind(this);
  }

  /**
   * The JWK with this kid from the set at jwksUri, or null.
   * Hot path: a fresh cached key is answered from the published view without entering wasm.
   */
  getKey(jwksUri, kid) {
    const view = this.#views.get(jwksUri);
    if (view !== undefined && this.#now() < view.freshUntil) {
      const jwk = view.keys.get(kid);
      if (jwk !== undefined) return Promise.resolve(jwk);
    }
    return this.#lookUp(jwksUri, kid);
  }

  /** Forgets every cached set. */
  clear() {
    this.#core.clear();
  }

  async #lookUp(jwksUri, kid) {
    for (;;) {
      let decision;
      try {
        decision = this.#core.decide(jwksUri, kid, this.#now());
      } catch (raw) {
        throw toPublicError(raw);
      }
      if (decision.key !== undefined) return decision.key;
      const result =
        decision.fetch !== undefined
          ? await this.#lead(jwksUri, decision.fetch)
          : await this.#join(decision.join, decision.deadline);
      if (result === LOST) continue;
      if (result.error !== undefined) throw result.error;
      return keyIn(result.view, kid);
    }
  }

  /** Runs the fetch the core asked for, then hands its result to every caller waiting on it. */
  async #lead(uri, flight) {
    let result;
    try {
      result = this.#report(uri, flight, await fetchJwks(this.#fetch, uri, this.#core.timeoutMs));
    } catch (unexpected) {
      // A bug, not an answer; still, no waiting caller may hang on it.
      result = { error: unexpected };
    }
    const waiters = this.#waiters.get(flight);
    this.#waiters.delete(flight);
    if (waiters !== undefined) for (const settle of waiters) settle(result);
    return result;
  }

  #report(uri, flight, outcome) {
    const now = this.#now();
    if (outcome.failed) {
      return { error: toPublicError(this.#core.fail(uri, flight, outcome.timedOut, outcome.detail, now)) };
    }
    try {
      return { view: this.#core.finish(uri, flight, outcome.status, outcome.body, now) };
    } catch (raw) {
      return { error: toPublicError(raw) };
    }
  }

  /**
   * Waits for another caller's fetch. The promise is created here, in this caller's context,
   * and a timer of this caller's own ends the wait at the fetch's deadline: if the request that
   * ran the fetch was cancelled (workerd does that when a client goes away), this caller decides
   * again instead of hanging.
   */
  #join(flight, deadline) {
    let waiters = this.#waiters.get(flight);
    if (waiters === undefined) this.#waiters.set(flight, (waiters = new Set()));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiters.delete(settle);
        if (waiters.size === 0 && this.#waiters.get(flight) === waiters) this.#waiters.delete(flight);
        resolve(LOST);
      }, Math.max(0, deadline - this.#now()) + 1);
      const settle = (result) => {
        clearTimeout(timer);
        resolve(result);
      };
      waiters.add(settle);
    });
  }
}

function keyIn(view, kid) {
  const jwk = view.keys.get(kid);
  if (jwk !== undefined) return jwk;
  const ambiguity = view.ambiguous.get(kid);
  if (ambiguity !== undefined) throw toPublicError(ambiguity);
  return null;
}
