// The shared store, as the cache uses it: many instances (processes, isolates) fetch a JWKS once
// for all of them, and drop it everywhere on invalidation. A store is a small async interface
// that adapters implement (js/stores/: Redis, Workers KV; memoryStore() below for one process):
//
//   get(key) -> string | null | undefined     set(key, value, ttlMs)     delete(key)
//   optional: lock(key, ttlMs) -> boolean (set if absent, with a TTL: one instance fetches a
//             cold set while the others wait for it to appear in the store)
//   optional: publish(channel, message), subscribe(channel, onMessage) -> unsubscribe function
//
// The store is never a single point of failure: every operation is bounded by `timeoutMs`, and a
// failure or a timeout is reported (onStoreError) and treated as "nothing there". Whether a set
// from the store answers a fetch is the core's decision (src/shared_set.rs), and its document is
// read with the same rules as a response from the issuer.

/** Version of the key layout and of the document format; a change makes old entries unseen. */
const PREFIX = 'jwks-cache:v1:';
/** The pub/sub channel of invalidations. */
export const INVALIDATION_CHANNEL = `${PREFIX}invalidations`;
/** How often an instance that did not get the lock looks for the set another one fetches. */
const POLL_MS = 50;
/** A store document is at most this long (the response bound plus its envelope). */
const DOCUMENT_OVERHEAD = 16 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * An in-process store (a Map with expiry and local pub/sub): several caches of one process given
 * the same one share their sets and invalidations. Its size is bounded by the caches' own
 * `maxEntries`, since each writes only what it caches.
 */
export function memoryStore() {
  const entries = new Map();
  const subscribers = new Map();
  const live = (key) => {
    const entry = entries.get(key);
    if (entry !== undefined && entry.expires <= Date.now()) entries.delete(key);
    return entries.get(key);
  };
  return {
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, ttlMs) {
      entries.set(key, { value, expires: Date.now() + ttlMs });
    },
    async delete(key) {
      entries.delete(key);
    },
    async lock(key, ttlMs) {
      if (live(key) !== undefined) return false;
      entries.set(key, { value: '1', expires: Date.now() + ttlMs });
      return true;
    },
    async publish(channel, message) {
      for (const listener of subscribers.get(channel) ?? []) queueMicrotask(() => listener(message));
    },
    async subscribe(channel, onMessage) {
      if (!subscribers.has(channel)) subscribers.set(channel, new Set());
      subscribers.get(channel).add(onMessage);
      return () => subscribers.get(channel).delete(onMessage);
    },
  };
}

/** The store key of a URI's set: a SHA-256 of the URI (Workers KV keys are at most 512 bytes). */
async function keyOf(uri) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(uri)));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return `${PREFIX}jwks:${hex}`;
}

/** The cache's view of a user's store: bounded, failures reported and absorbed. */
export class SharedStore {
  #store;
  #timeoutMs;
  #onError;
  /** This instance's name on the invalidation channel, so that it ignores its own messages. */
  #id = randomId();

  /**
   * @param store the user's store (checked by the caller)
   * @param {{ timeoutMs: number, maxBytes: number, onError(operation: string, error: unknown, uri?: string): void }} options
   */
  constructor(store, { timeoutMs, maxBytes, onError }) {
    this.#store = store;
    this.#timeoutMs = timeoutMs;
    this.maxBytes = maxBytes;
    this.#onError = onError;
  }

  get canLock() {
    return typeof this.#store.lock === 'function';
  }

  /** The stored document of `uri`: `{ body, fetchedAt, cacheControl }`, or undefined. */
  async read(uri) {
    const key = await keyOf(uri);
    const text = await this.#call('get', uri, () => this.#store.get(key));
    if (text === undefined || text === null) return undefined;
    try {
      return decodeDocument(text, uri, this.maxBytes);
    } catch (error) {
      this.#onError('get', error, uri);
      return undefined;
    }
  }

  /**
   * Writes the set just fetched for `uri`, kept until it is no longer usable, and releases the
   * lock this instance may hold on fetching it.
   */
  async write(uri, { body, fetchedAt, cacheControl, ttlMs }) {
    const key = await keyOf(uri);
    const document = JSON.stringify({ uri, fetchedAt, cacheControl: cacheControl ?? null, body: decoder.decode(body) });
    await this.#call('set', uri, () => this.#store.set(key, document, Math.max(1_000, Math.ceil(ttlMs))));
    if (this.canLock) await this.#call('delete', uri, () => this.#store.delete(`${key}:lock`));
  }

  /** Deletes the stored set of `uri`: undefined when done, else the error. */
  async remove(uri) {
    const key = await keyOf(uri);
    let failure;
    await this.#call('delete', uri, () => this.#store.delete(key), true, (error) => (failure = error));
    return failure;
  }

  /** Takes the lock for fetching `uri` for `ttlMs`: true when this instance should fetch. */
  async lock(uri, ttlMs) {
    if (!this.canLock) return true;
    const key = `${await keyOf(uri)}:lock`;
    const got = await this.#call('lock', uri, () => this.#store.lock(key, ttlMs));
    // A store that cannot answer does not stop this instance from fetching.
    return got === undefined ? true : got === true;
  }

  /** Waits up to `ms` for the store to hold a document of `uri` that `accept` takes. */
  async await(uri, ms, accept) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const document = await this.read(uri);
      if (document !== undefined) {
        const taken = accept(document);
        if (taken !== undefined) return taken;
      }
    }
    return undefined;
  }

  /** Tells the other instances to drop `uri`: undefined when done (or no pub/sub), else the error. */
  async announceInvalidation(uri) {
    if (typeof this.#store.publish !== 'function') return undefined;
    let failure;
    const message = JSON.stringify({ uri, from: this.#id });
    await this.#call('publish', uri, () => this.#store.publish(INVALIDATION_CHANNEL, message), true, (error) => (failure = error));
    return failure;
  }

  /**
   * Calls `onUri` with each URI another instance invalidates, from now until the returned
   * function is called. A subscription that fails (the store is down) is tried again, 1 s, 2 s...
   * up to 30 s apart, on a timer that never keeps a process alive. It is not bounded by
   * `timeoutMs`: a subscription given up on while it was still connecting would subscribe later
   * all the same, and one more would be made beside it; so each attempt runs to its end, and one
   * that ends after the returned function was called is closed at once.
   */
  listen(onUri) {
    if (typeof this.#store.subscribe !== 'function') return () => {};
    let stopped = false;
    let unsubscribe;
    let timer;
    const onMessage = (message) => {
      let uri, from;
      try {
        ({ uri, from } = JSON.parse(message));
      } catch {
        return;
      }
      if (!stopped && typeof uri === 'string' && from !== this.#id) onUri(uri);
    };
    const attempt = async (wait) => {
      let done;
      try {
        done = await this.#store.subscribe(INVALIDATION_CHANNEL, onMessage);
      } catch (error) {
        this.#onError('subscribe', error);
      }
      if (typeof done === 'function') {
        if (stopped) done();
        else unsubscribe = done;
        return;
      }
      if (stopped) return;
      timer = setTimeout(() => attempt(Math.min(wait * 2, 30_000)), wait);
      timer.unref?.();
    };
    attempt(1_000);
    return () => {
      stopped = true;
      clearTimeout(timer);
      try {
        unsubscribe?.();
      } catch {
        // Closing a subscription that failed is nothing to report.
      }
    };
  }

  /**
   * Runs one store operation within the timeout: its value, or undefined after reporting the
   * failure. `succeeded`, when given, is the value for an operation that resolved.
   */
  async #call(operation, uri, run, succeeded, onFailure) {
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.#timeoutMs);
    });
    try {
      const value = await Promise.race([Promise.resolve().then(run), timedOut]);
      if (value === TIMED_OUT) throw new Error(`store ${operation} timed out after ${this.#timeoutMs} ms`);
      return succeeded ?? value;
    } catch (error) {
      this.#onError(operation, error, uri);
      onFailure?.(error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}

const TIMED_OUT = Symbol('timed out');

function randomId() {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A store document, checked: anything else is an error (reported, then treated as absent). */
function decodeDocument(text, uri, maxBytes) {
  if (typeof text !== 'string') throw new Error('the stored value is not a string');
  if (text.length > maxBytes + DOCUMENT_OVERHEAD) throw new Error('the stored document is larger than the response bound');
  const document = JSON.parse(text);
  if (document === null || typeof document !== 'object') throw new Error('the stored document is not an object');
  const { uri: storedUri, fetchedAt, cacheControl, body } = document;
  // A different URI under this key (a hash collision, or a forged entry) is not this URI's set.
  if (storedUri !== uri) throw new Error('the stored document belongs to another URI');
  if (typeof fetchedAt !== 'number' || typeof body !== 'string' || !(cacheControl === null || typeof cacheControl === 'string')) {
    throw new Error('the stored document is malformed');
  }
  return { body: encoder.encode(body), fetchedAt, cacheControl: cacheControl ?? undefined };
}
