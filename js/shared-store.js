// The shared store, as the cache uses it: many instances (processes, isolates) fetch a JWKS once
// for all of them, and drop it everywhere on invalidation. A store is a small async interface
// that adapters implement (js/stores/: Redis, Workers KV; memoryStore() below for one process):
//
//   get(key) -> string | null | undefined     set(key, value, ttlMs)     delete(key)
//   optional: lock(key, ttlMs) -> boolean (set if absent, with a TTL: one instance fetches a
//             cold set while the others wait for it to appear in the store)
//   optional: publish(channel, message), subscribe(channel, onMessage, signal) -> unsubscribe
//             function (the signal aborts when the cache closes: a subscription still connecting
//             must give up and close its connection)
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

/** memoryStore() sweeps expired entries once it holds this many, and keeps at most MAX of them. */
const MEMORY_SWEEP_AT = 1_000;
const MEMORY_MAX_ENTRIES = 10_000;
/** How long an invalidation's tombstone stays: longer than any set may be served (1 day + 7 days). */
const TOMBSTONE_TTL_MS = 8 * 24 * 60 * 60 * 1000;

/**
 * An in-process store (a Map with expiry and local pub/sub): several caches of one process given
 * the same one share their sets and invalidations. Expired entries are swept as it fills, and it
 * holds at most 10,000 entries (the oldest written go first).
 */
export function memoryStore() {
  const entries = new Map();
  const subscribers = new Map();
  const live = (key) => {
    const entry = entries.get(key);
    if (entry !== undefined && entry.expires <= Date.now()) entries.delete(key);
    return entries.get(key);
  };
  const put = (key, value, ttlMs) => {
    entries.delete(key);
    entries.set(key, { value, expires: Date.now() + ttlMs });
    if (entries.size >= MEMORY_SWEEP_AT) {
      for (const [stored, entry] of entries) if (entry.expires <= Date.now()) entries.delete(stored);
      while (entries.size > MEMORY_MAX_ENTRIES) entries.delete(entries.keys().next().value);
    }
  };
  return {
    async get(key) {
      return live(key)?.value ?? null;
    },
    async set(key, value, ttlMs) {
      put(key, value, ttlMs);
    },
    async delete(key) {
      entries.delete(key);
    },
    async lock(key, ttlMs) {
      if (live(key) !== undefined) return false;
      put(key, '1', ttlMs);
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

  /**
   * What the store holds for `uri`: `{ document?: { body, fetchedAt, cacheControl },
   * invalidatedAt?, failed }`. `invalidatedAt` is the time of the last invalidation (its
   * tombstone): no document fetched before it may answer. `failed`: the store could not be read.
   */
  async read(uri) {
    const key = await keyOf(uri);
    let failed = false;
    let tombstoneError;
    // Both at once (one round trip); a store that fails both is reported once.
    const [text, tombstone] = await Promise.all([
      this.#call('get', uri, () => this.#store.get(key), undefined, () => (failed = true)),
      this.#call('get', uri, () => this.#store.get(`${key}:invalidated`), undefined, undefined, (error) => (tombstoneError = error)),
    ]);
    if (tombstoneError !== undefined && !failed) this.#onError('get', tombstoneError, uri);
    const invalidatedAt = Number(tombstone);
    const answer = { failed, invalidatedAt: Number.isFinite(invalidatedAt) && invalidatedAt > 0 ? invalidatedAt : undefined };
    if (text === undefined || text === null) return answer;
    try {
      answer.document = decodeDocument(text, uri, this.maxBytes);
    } catch (error) {
      this.#onError('get', error, uri);
    }
    return answer;
  }

  /**
   * Writes the set just fetched for `uri`, kept until it is no longer usable. `fetchedAt` is when
   * the fetch began, so that a set whose fetch began before an invalidation never passes for one
   * fetched after it. Resolves whether the store took it.
   */
  async write(uri, { body, fetchedAt, cacheControl, ttlMs }) {
    const key = await keyOf(uri);
    const document = JSON.stringify({ uri, fetchedAt, cacheControl: cacheControl ?? null, body: decoder.decode(body) });
    let failed = false;
    await this.#call('set', uri, () => this.#store.set(key, document, Math.max(1_000, Math.ceil(ttlMs))), undefined, () => (failed = true));
    return !failed;
  }

  /** Releases the lock this instance took on fetching `uri` (see lock()). */
  async release(uri) {
    const key = await keyOf(uri);
    await this.#call('delete', uri, () => this.#store.delete(`${key}:lock`));
  }

  /**
   * The shared part of invalidating `uri` at `invalidatedAt`: a tombstone (so that no instance
   * adopts a set fetched before it, even one written back after this), the set deleted, the other
   * instances told. Each is tried whatever the others do. Undefined when all were done, else the
   * first error.
   */
  async invalidate(uri, invalidatedAt) {
    const key = await keyOf(uri);
    const failures = [];
    const onFailure = (error) => failures.push(error);
    const message = JSON.stringify({ uri, from: this.#id });
    await Promise.all([
      this.#call('set', uri, () => this.#store.set(`${key}:invalidated`, String(invalidatedAt), TOMBSTONE_TTL_MS), undefined, onFailure),
      this.#call('delete', uri, () => this.#store.delete(key), undefined, onFailure),
      typeof this.#store.publish === 'function'
        ? this.#call('publish', uri, () => this.#store.publish(INVALIDATION_CHANNEL, message), undefined, onFailure)
        : undefined,
    ]);
    return failures[0];
  }

  /** Takes the lock for fetching `uri` for `ttlMs`: true when this instance should fetch. */
  async lock(uri, ttlMs) {
    if (!this.canLock) return true;
    const key = `${await keyOf(uri)}:lock`;
    let failed = false;
    const got = await this.#call('lock', uri, () => this.#store.lock(key, ttlMs), undefined, () => (failed = true));
    // A store that cannot answer does not stop this instance from fetching. Any truthy answer
    // (true, 'OK', 1: what SET NX gives through some clients) means the lock was taken.
    return failed || Boolean(got);
  }

  /**
   * Waits up to `ms` for the store to hold a document of `uri` that `accept` takes (its answer),
   * polling every 50 ms; gives up early when a document newer than `seenFetchedAt` comes that
   * `accept` refuses (the instance holding the lock fetched a set that does not do).
   */
  async await(uri, ms, seenFetchedAt, accept) {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const { document, invalidatedAt, failed } = await this.read(uri);
      if (failed) return undefined;
      if (document === undefined) continue;
      const taken = accept(document, invalidatedAt);
      if (taken !== undefined) return taken;
      if (seenFetchedAt === undefined || document.fetchedAt > seenFetchedAt) return undefined;
    }
    return undefined;
  }

  /**
   * Calls `onUri` with each URI another instance invalidates, from now until the returned
   * function is called. A subscription that fails (the store is down) is tried again, 1 s, 2 s...
   * up to 30 s apart, on a timer that never keeps a process alive. It is not bounded by
   * `timeoutMs` (a subscription given up on while still connecting would subscribe later all the
   * same, beside the next one): each attempt runs to its end, and the returned function aborts
   * the one in progress through the AbortSignal that `subscribe` receives as its third argument
   * (the adapters close their connection then, even mid-connect).
   */
  listen(onUri) {
    if (typeof this.#store.subscribe !== 'function') return () => {};
    const controller = new AbortController();
    let unsubscribe;
    let timer;
    const onMessage = (message) => {
      let uri, from;
      try {
        ({ uri, from } = JSON.parse(message));
      } catch {
        return;
      }
      if (!controller.signal.aborted && typeof uri === 'string' && from !== this.#id) onUri(uri);
    };
    const attempt = async (wait) => {
      let done;
      try {
        done = await this.#store.subscribe(INVALIDATION_CHANNEL, onMessage, controller.signal);
      } catch (error) {
        if (controller.signal.aborted) return;
        this.#onError('subscribe', error);
        timer = setTimeout(() => attempt(Math.min(wait * 2, 30_000)), wait);
        timer.unref?.();
        return;
      }
      // Subscribed (a store may give no function to end it with).
      if (typeof done !== 'function') return;
      if (controller.signal.aborted) close(done);
      else unsubscribe = done;
    };
    const close = (end) => {
      try {
        Promise.resolve(end()).catch(() => {});
      } catch {
        // Closing a subscription that failed is nothing to report.
      }
    };
    attempt(1_000);
    return () => {
      controller.abort();
      clearTimeout(timer);
      if (unsubscribe !== undefined) close(unsubscribe);
    };
  }

  /**
   * Runs one store operation within the timeout: its value, or undefined after reporting the
   * failure (or handing it to `instead`) and telling `onFailure`. `succeeded`, when given, is the
   * value for one that resolved.
   */
  async #call(operation, uri, run, succeeded, onFailure, instead) {
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.#timeoutMs);
    });
    try {
      const value = await Promise.race([Promise.resolve().then(run), timedOut]);
      if (value === TIMED_OUT) throw new Error(`store ${operation} timed out after ${this.#timeoutMs} ms`);
      return succeeded ?? value;
    } catch (error) {
      // `instead`: the caller reports the failure itself, or not.
      if (instead !== undefined) instead(error);
      else this.#onError(operation, error, uri);
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
  // A time the clock could give (0 to 8.64e15 ms), so that a bad stamp is the store's error.
  if (!(typeof fetchedAt === 'number' && fetchedAt >= 0 && fetchedAt <= 8.64e15) || typeof body !== 'string' || !(cacheControl === null || typeof cacheControl === 'string')) {
    throw new Error('the stored document is malformed');
  }
  return { body: encoder.encode(body), fetchedAt, cacheControl: cacheControl ?? undefined };
}
