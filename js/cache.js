// The documented API over the wasm core. The core decides (freshness, single flight, what a
// response means, every error); this module does the I/O it asks for and every `await`, so that
// each await runs in the calling request's own context (see src/wasm.rs for why that matters in
// workerd).

import { CacheCore } from './wasm/jwks_cache.js';
import { fetchJwks } from './fetch-jwks.js';
import { keyView } from './key-views.js';
import { joseKey, plainList, readOptions, verify, verifyJws } from './verify.js';
import { Discovery } from './discovery.js';
import { VerifiedTokens } from './verified-tokens.js';
import { JwksArgumentError, asPublicError, clockFailure, coreFailure, isCoreError, toPublicError } from './errors.js';
import { ACTIONS, Telemetry, errorFields } from './telemetry.js';
import { SharedStore } from './shared-store.js';

/** The longest interval a timer can wait (2^31 - 1 ms), a day here. */
const MAX_TIMER_MS = 24 * 60 * 60 * 1000;

/** Default bound of one shared store operation. */
const DEFAULT_STORE_TIMEOUT_MS = 250;
/** How many recent invalidations are remembered, so that the store's copy is not adopted again. */
const REMEMBERED_INVALIDATIONS = 1_000;
/** The longest `reason` an invalidation event quotes. */
const MAX_REASON_CHARS = 200;

/** What a caller waiting on another caller's fetch gets when that fetch is presumed lost. */
const LOST = Symbol('lost fetch');

export function createJwksCache(options) {
  return new JwksCache(options);
}

export class JwksCache {
  /** The options the core was made with, to make a fresh one if it ever fails. */
  #coreOptions;
  #core;
  /** URI -> the view of its cached set (see key-views.js), as the core stored it. */
  #views = new Map();
  #now;
  #fetch;
  /** Flight id -> callbacks of the callers waiting on that fetch. */
  #waiters = new Map();
  /** What this cache's fetch has shown it refuses (see fetch-jwks.js): learnt per cache. */
  #fetchQuirks = { noStoreRefused: false };
  /** What verify.js may use of this cache. */
  #verification;
  /** The `waitUntil` option: background work (stale-while-revalidate refreshes) is handed to it. */
  #waitUntil;
  /** The `refreshIntervalMs` timer, until close(). */
  #timer;
  /** Events, logs and counters (telemetry.js). */
  #telemetry;
  /** The shared store (shared-store.js), when the `store` option gives one. */
  #shared;
  /** Stops listening to other instances' invalidations. */
  #unlisten;
  /** URI -> when it was last invalidated (bounded): the store's older copy is not adopted again. */
  #invalidatedAt = new Map();
  /** The `verifyOptions` option, read once: what a verify call leaves out. */
  #verifyOptions;
  /** OpenID discovery of JWKS URIs, for verify({ issuer }) without jwksUri. */
  #discovery;
  /** Views already reported as served stale, and views whose kid misses were reported suppressed. */
  #reported = new WeakSet();

  constructor(options = {}) {
    if (options === null || typeof options !== 'object') {
      throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: options must be an object');
    }
    let ttlMs, timeoutMs, maxResponseBytes, maxKeys, maxVerifiedTokens, allowInsecureHttp, maxStaleMs, refetchCooldownMs, maxEntries, maxRetries;
    let fetch, now, waitUntil, refreshIntervalMs, allowedJwksUris, store, storeTimeoutMs, onEvent, logger, verifyOptions, offloadSignatures;
    try {
      // Read once: a getter or a Proxy gets no second chance to answer differently.
      ({ ttlMs, timeoutMs, maxResponseBytes, maxKeys, maxVerifiedTokens, allowInsecureHttp, maxStaleMs, refetchCooldownMs, maxEntries, maxRetries } =
        options);
      ({ fetch, now, waitUntil, refreshIntervalMs, allowedJwksUris, store, storeTimeoutMs, onEvent, logger, verifyOptions, offloadSignatures } = options);
      // Copied here, so that the core reads a plain array and no caller code runs inside wasm.
      allowedJwksUris = plainList(allowedJwksUris);
    } catch (cause) {
      throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: the options object could not be read', { cause });
    }
    for (const [name, value] of [['fetch', fetch], ['now', now], ['waitUntil', waitUntil], ['onEvent', onEvent]]) {
      if (value !== undefined && typeof value !== 'function') {
        throw new JwksArgumentError('ERR_INVALID_OPTION', `Invalid option: ${name} must be a function`);
      }
    }
    if (refreshIntervalMs !== undefined && !(Number.isInteger(refreshIntervalMs) && refreshIntervalMs >= 1_000 && refreshIntervalMs <= MAX_TIMER_MS)) {
      throw new JwksArgumentError('ERR_INVALID_OPTION', `Invalid option: refreshIntervalMs must be a whole number of milliseconds from 1000 to ${MAX_TIMER_MS}`);
    }
    checkStoreOptions(store, storeTimeoutMs, logger);
    if (offloadSignatures !== undefined && typeof offloadSignatures !== 'boolean') {
      throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: offloadSignatures must be a boolean');
    }
    if (verifyOptions !== undefined) {
      // Checked like a call's options (names, types; the core checks values on each call).
      this.#verifyOptions = Object.fromEntries(Object.entries(readOptions(verifyOptions)).filter(([, value]) => value !== undefined));
    }
    this.#waitUntil = waitUntil;
    this.#coreOptions = [
      ttlMs,
      timeoutMs,
      maxResponseBytes,
      maxKeys,
      maxVerifiedTokens,
      allowInsecureHttp,
      maxStaleMs,
      refetchCooldownMs,
      maxEntries,
      maxRetries,
      allowedJwksUris,
    ];
    try {
      this.#core = new CacheCore(...this.#coreOptions);
    } catch (thrown) {
      throw asPublicError(thrown);
    }
    this.#now = now ?? Date.now;
    this.#telemetry = new Telemetry({ onEvent, logger, now: this.#now });
    if (store !== undefined) {
      this.#shared = new SharedStore(store, {
        timeoutMs: storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS,
        maxBytes: this.#core.maxResponseBytes,
        onError: (operation, error, uri) => this.#storeError(operation, error, uri),
      });
      this.#unlisten = this.#shared.listen((uri) => this.#heardInvalidation(uri));
    }
    // Looked up on each call, so that a fetch installed later (test doubles, polyfills) is used.
    this.#fetch = fetch ?? ((input, init) => globalThis.fetch(input, init));
    const forgetToken = (core, id) => {
      try {
        core.forgetToken(id);
      } catch {
        // A core that failed was replaced, and what it read went with it.
      }
    };
    this.#discovery = new Discovery({ core: () => this.#core, fetch: this.#fetch, now: () => this.#readClock(), quirks: this.#fetchQuirks });
    this.#verification = {
      complete: (given) => this.#complete(given),
      discover: (issuer) => this.#discovery.jwksUri(issuer),
      setFor: (uri, kid, waitUntil) => this.#setFor(uri, kid, waitUntil),
      isCurrent: (uri, view) => {
        const current = this.#views.get(uri) === view && this.#isFresh(view);
        if (current) this.#telemetry.hits++;
        return current;
      },
      now: () => this.#readClock(),
      offloadSignatures: offloadSignatures === true,
      useCore: (operation, core) => this.#useCore(operation, core),
      forgetToken,
      tokens: new VerifiedTokens(this.#core.maxVerifiedTokens, (entry) => forgetToken(entry.core, entry.id)),
    };
    if (refreshIntervalMs !== undefined) {
      // A background refresh of every cached set, for long-lived processes; it never keeps a Node
      // process alive, and close() stops it.
      this.#timer = setInterval(() => this.#refreshAll(refreshIntervalMs), refreshIntervalMs);
      this.#timer.unref?.();
    }
    // Usable detached too: `const { getKey } = cache`.
    this.getKey = this.getKey.bind(this);
    this.verify = this.verify.bind(this);
    this.verifyJws = this.verifyJws.bind(this);
    this.joseKeyResolver = this.joseKeyResolver.bind(this);
    this.forceRefresh = this.forceRefresh.bind(this);
    this.discover = this.discover.bind(this);
    this.invalidate = this.invalidate.bind(this);
    this.status = this.status.bind(this);
    this.close = this.close.bind(this);
    this.clear = this.clear.bind(this);
    this.metrics = this.metrics.bind(this);
    this.metricsSnapshot = this.metricsSnapshot.bind(this);
  }

  /**
   * The JWK with this kid from the set at jwksUri, or null.
   * Hot path: a fresh cached key is answered from the view without entering wasm. Anything else
   * (stale, unknown kid, bad arguments, a clock that is not a number or that went back before the
   * fetch) goes to the core.
   */
  getKey(jwksUri, kid, options) {
    const view = this.#views.get(jwksUri);
    if (view !== undefined) {
      const jwk = view.keys.get(kid);
      if (jwk !== undefined) {
        // #isFresh, written out: this is the hot path.
        let now;
        try {
          now = this.#now();
        } catch {
          return this.#lookUp(jwksUri, kid, options);
        }
        if (typeof now === 'number' && now >= view.fetchedAt && now < view.freshUntil) {
          this.#telemetry.hits++;
          if (this.#telemetry.debugging) this.#telemetry.log('debug', { uri: jwksUri, kid }, 'jwks-cache hit');
          return Promise.resolve(jwk);
        }
      }
    }
    return this.#lookUp(jwksUri, kid, options);
  }

  /**
   * Verifies a JWT with the key its header selects from the set at `options.jwksUri`, and checks
   * its claims; see verify.js. Never throws synchronously.
   */
  verify(token, options) {
    // With verifyOptions, a call may give none of its own.
    return verify(this.#verification, token, options === undefined && this.#verifyOptions !== undefined ? {} : options);
  }

  /**
   * A key function for jose's `jwtVerify(token, resolver, options)`: it answers each protected
   * header with the key that header selects from the set at jwksUri (fetched, refreshed and
   * guarded by this cache: single flight, the refetch budget, stale-if-error, the store).
   */
  joseKeyResolver(jwksUri) {
    return (protectedHeader) => {
      try {
        const key = joseKey(this.#verification, jwksUri, protectedHeader);
        return key instanceof Promise ? key : Promise.resolve(key);
      } catch (error) {
        return Promise.reject(error);
      }
    };
  }

  /** Verifies a JWS whose payload is any bytes (no claims); see verify.js. */
  verifyJws(jws, options) {
    return verifyJws(this.#verification, jws, options);
  }

  /**
   * Fetches the set at jwksUri now, fresh or not (sharing a fetch already running); resolves when
   * it is cached, rejects with the fetch's error (the set cached before stays). While failures
   * back off, rejects at once with their error.
   */
  async forceRefresh(jwksUri) {
    await this.#refresh(jwksUri, 0);
  }

  /** A refresh that a set another instance stored at most `sinceMs` ago may answer (see the core). */
  async #refresh(jwksUri, sinceMs) {
    await this.#settle(jwksUri, (core, now) => core.decideRefresh(jwksUri, now, sinceMs));
  }

  /**
   * Forgets the set at jwksUri (not the backoff of failing fetches), so that the next lookup fetches it; with a
   * shared store, also deletes it there and tells the other instances to drop theirs. Resolves
   * true when all of that was done, false when the shared part failed: that is reported (the
   * JWKS_CACHE_INVALIDATION_FAILED event, a warning, a counter), never thrown, since the local
   * part is done and the TTL heals the rest.
   * @throws {JwksArgumentError} (rejects) for an invalid URI or options
   */
  async invalidate(jwksUri, options) {
    let reason;
    if (options !== undefined) {
      try {
        reason = options?.reason;
      } catch (cause) {
        throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: the options object could not be read', { cause });
      }
      if (options === null || typeof options !== 'object' || (reason !== undefined && typeof reason !== 'string')) {
        throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: invalidate takes { reason: string }');
      }
    }
    reason = reason?.slice(0, MAX_REASON_CHARS);
    this.#forget(jwksUri);
    this.#telemetry.invalidations++;
    const shared = this.#shared;
    const error = shared === undefined ? undefined : await shared.invalidate(jwksUri, this.#invalidatedAt.get(jwksUri));
    if (error === undefined) {
      this.#telemetry.event(ACTIONS.INVALIDATED, { uri: jwksUri, reason, shared: shared !== undefined });
      return true;
    }
    this.#telemetry.invalidationErrors++;
    this.#telemetry.event(ACTIONS.INVALIDATION_FAILED, { uri: jwksUri, reason, error: errorFields(error) });
    return false;
  }

  /** Drops what this instance holds for jwksUri, and remembers when (see #invalidatedAt). */
  #forget(jwksUri) {
    const held = this.#useCore((core) => core.forget(jwksUri));
    this.#views.delete(jwksUri);
    this.#invalidatedAt.delete(jwksUri);
    this.#invalidatedAt.set(jwksUri, this.#readClock());
    if (this.#invalidatedAt.size > REMEMBERED_INVALIDATIONS) this.#invalidatedAt.delete(this.#invalidatedAt.keys().next().value);
    return held;
  }

  /** Another instance invalidated `uri` (the store's pub/sub): reported when a set was dropped. */
  #heardInvalidation(uri) {
    let held;
    try {
      held = this.#forget(uri);
    } catch {
      // Not a URI this cache could hold (or its clock failed): nothing to drop.
      return;
    }
    if (held) this.#telemetry.event(ACTIONS.INVALIDATED, { uri, remote: true });
  }

  #storeError(operation, error, uri) {
    this.#telemetry.count('jwt_jwks_cache_store_errors_total', operation);
    this.#telemetry.event(ACTIONS.STORE_ERROR, { uri, operation, error: errorFields(error) });
  }

  /** The counters, in the Prometheus text exposition format. */
  metrics() {
    return this.#telemetry.prometheus({ entries: this.#views.size });
  }

  /** The counters as numbers, for adapters (prom-client). */
  metricsSnapshot() {
    return { ...this.#telemetry.snapshot(), entries: this.#views.size };
  }

  /**
   * The JWKS URI that OpenID discovery finds for `issuer`, as `verify({ issuer })` uses it (found
   * once, then renewed in the background).
   */
  discover(issuer) {
    try {
      return Promise.resolve(this.#discovery.jwksUri(issuer));
    } catch (error) {
      return Promise.reject(asPublicError(error));
    }
  }

  /**
   * Where the cache stands for jwksUri: `{ fetchedAt, freshUntil, usableUntil, fresh, stale, kids,
   * fetching, lastError?, retryAt?, failures? }`, or null when it holds nothing for it.
   * @throws {JwksArgumentError} for an invalid URI or clock reading
   */
  status(jwksUri) {
    const now = this.#readClock();
    const status = this.#useCore((core) => core.status(jwksUri, now));
    if (status?.lastError !== undefined) status.lastError = toPublicError(status.lastError);
    return status;
  }

  /**
   * Stops the `refreshIntervalMs` timer, and listening to other instances' invalidations. The
   * cache still answers; nothing refreshes on its own.
   */
  close() {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unlisten?.();
    this.#unlisten = undefined;
  }

  /**
   * A refresh of every cached set (the `refreshIntervalMs` timer); failures stay in `status`. A
   * set another instance stored within half the interval answers it, so that instances sharing a
   * store fetch about once per interval between them.
   */
  #refreshAll(intervalMs) {
    for (const uri of [...this.#views.keys()]) this.#refresh(uri, intervalMs / 2).catch(() => {});
  }

  /** Background work: handed to `waitUntil` when there is one; it never rejects. */
  #inBackground(work, waitUntil) {
    if (waitUntil === undefined) return;
    try {
      waitUntil(work);
    } catch {
      // A waitUntil that refuses (a request already over) leaves the work running unattended.
    }
  }

  /** Forgets every cached set, and every token verified with one. */
  clear() {
    this.#views.clear();
    this.#verification.tokens.clear();
    try {
      this.#core.clear();
    } catch (thrown) {
      this.#restart(this.#core, thrown);
    }
  }

  /**
   * A verify call's options (read: see verify.js) completed with the cache's `verifyOptions`,
   * and with the JWKS URI of `issuer` by OpenID discovery when none is given.
   */
  #complete(given) {
    const defaults = this.#verifyOptions;
    if (defaults !== undefined) for (const name in defaults) given[name] ??= defaults[name];
    if (given.jwksUri !== undefined) return given;
    // One issuer (a string, or a list of one): its JWKS URI, when discovery knows it already;
    // else verify.js asks for it (discover) once the token has been read and its `iss` checked,
    // so that a malformed or foreign token never waits on discovery.
    const issuer = Array.isArray(given.issuer) && given.issuer.length === 1 ? given.issuer[0] : given.issuer;
    if (typeof issuer === 'string') {
      given.discoverFor = issuer;
      given.jwksUri = this.#discovery.known(issuer);
    }
    return given;
  }

  /** A lookup that goes to the core; `options` may hold this call's `waitUntil`. */
  async #lookUp(jwksUri, kid, options) {
    let waitUntil = this.#waitUntil;
    if (options !== undefined) {
      const refused = () => new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: getKey takes { waitUntil: function }');
      if (options === null || typeof options !== 'object') throw refused();
      let given;
      try {
        given = options.waitUntil;
      } catch (cause) {
        throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: the options object could not be read', { cause });
      }
      if (given !== undefined && typeof given !== 'function') throw refused();
      waitUntil = given ?? waitUntil;
    }
    return keyIn(await this.#lookUpSet(jwksUri, kid, false, waitUntil), kid);
  }

  /**
   * The fresh set of jwksUri that a token naming `kid` (or none: undefined) is verified with:
   * from the views when it has that kid, else as a lookup gets it (fetched once on a miss).
   */
  #setFor(jwksUri, kid, waitUntil) {
    const view = this.#views.get(jwksUri);
    if (view !== undefined && (kid === undefined || view.keys.has(kid)) && this.#isFresh(view)) {
      this.#telemetry.hits++;
      return view;
    }
    return this.#lookUpSet(jwksUri, kid, kid === undefined, waitUntil);
  }

  /** Whether the clock reads a time within the view's freshness (a clock that throws: no). */
  #isFresh(view) {
    let now;
    try {
      now = this.#now();
    } catch {
      return false;
    }
    return typeof now === 'number' && now >= view.fetchedAt && now < view.freshUntil;
  }

  /**
   * The set to answer a lookup of `kid` from (or, with `anyKey`, any fresh set), fetched if need
   * be. A background refresh is handed to `waitUntil` (the call's, else the cache's), so that a
   * Worker keeps it alive after its response.
   */
  #lookUpSet(jwksUri, kid, anyKey = false, waitUntil = this.#waitUntil) {
    const decide = (core, now) => (anyKey ? core.decideAny(jwksUri, now) : core.decide(jwksUri, kid, now));
    return this.#settle(jwksUri, decide, waitUntil, anyKey ? undefined : kid);
  }

  /**
   * The decide/fetch/join loop: asks the core (`decide(core, now)`) what to do for jwksUri, until
   * a set answers: the cached one, the one a fetch of its own brought, or the one of a fetch it
   * joined. A joined fetch presumed lost means deciding again.
   */
  async #settle(jwksUri, decide, waitUntil, kid) {
    for (let first = true; ; first = false) {
      const now = this.#readClock();
      const decision = this.#useCore((core) => decide(core, now));
      // URIs the core forgot to make room (maxEntries): their views go too.
      if (decision.evicted !== undefined) for (const uri of decision.evicted) this.#views.delete(uri);
      if (decision.found) {
        // The cached set answers (stale, or without the kid when the refetch budget is spent);
        // a stale one is refreshed in the background, nobody waiting on it.
        const view = this.#views.get(jwksUri);
        if (view === undefined) throw toPublicError(this.#restart(this.#core, new Error('the core and its views disagree')));
        if (decision.refresh !== undefined) this.#inBackground(this.#lead(jwksUri, decision.refresh), waitUntil);
        if (first) this.#countAnswer(jwksUri, kid, view, now);
        return view;
      }
      if (first) {
        this.#telemetry.misses++;
        if (this.#telemetry.debugging) this.#telemetry.log('debug', { uri: jwksUri, kid }, 'jwks-cache miss');
      }
      const result =
        decision.fetch !== undefined
          ? await this.#lead(jwksUri, decision.fetch)
          : await this.#join(decision.join, decision.deadline);
      if (result === LOST) continue;
      if (result.error !== undefined) throw toPublicError(result.error);
      return result.view;
    }
  }

  /** Counts a lookup the cached set answered: fresh, stale, or without the kid (a miss: refetch held back). */
  #countAnswer(uri, kid, view, now) {
    const telemetry = this.#telemetry;
    if (kid !== undefined && !view.keys.has(kid) && !view.ambiguous.has(kid)) {
      // The kid is missing and no refetch was allowed: the window's budget is spent, or failures
      // back off. A miss, answered null.
      const status = this.#useCore((core) => core.status(uri, now));
      const reason = status?.retryAt > now ? 'backoff' : 'refetch_budget';
      telemetry.misses++;
      telemetry.count('jwt_jwks_cache_refresh_suppressed_total', reason);
      if (!this.#reported.has(view.keys)) {
        this.#reported.add(view.keys);
        telemetry.event(ACTIONS.REFRESH_SUPPRESSED, { uri, kid, reason });
      }
      if (telemetry.debugging) telemetry.log('debug', { uri, kid }, 'jwks-cache miss');
      return;
    }
    if (now >= view.freshUntil) {
      telemetry.staleHits++;
      if (!this.#reported.has(view)) {
        this.#reported.add(view);
        telemetry.event(ACTIONS.STALE_SERVED, { uri, fetchedAt: view.fetchedAt, freshUntil: view.freshUntil });
      }
    } else {
      telemetry.hits++;
    }
    if (telemetry.debugging) telemetry.log('debug', { uri, kid }, 'jwks-cache hit');
  }

  /**
   * Runs `operation` on the core (by default the current one; verify.js may name the one that read
   * a token). An error the core decided is thrown as its public error. Anything
   * else means the core itself failed (a trap: a bug, or memory exhausted): the cache goes on with
   * a fresh, empty core, and the call gets ERR_JWKS_CORE_FAILURE.
   */
  #useCore(operation, core = this.#core) {
    try {
      return operation(core);
    } catch (thrown) {
      if (isCoreError(thrown)) throw toPublicError(thrown);
      throw toPublicError(this.#restart(core, thrown));
    }
  }

  /** The clock's reading, for the core to check; a clock that throws fails the call. */
  #readClock() {
    try {
      return this.#now();
    } catch (cause) {
      throw toPublicError(clockFailure(cause));
    }
  }

  /**
   * Replaces a failed core by a fresh one. Every call waiting on a fetch of the failed core gets
   * the failure; fetches still running for it are discarded when they end.
   */
  #restart(failed, cause) {
    const failure = coreFailure(cause);
    if (failed !== this.#core) return failure;
    try {
      this.#core = new CacheCore(...this.#coreOptions);
    } catch {
      // Not even a fresh core fits in the wasm memory: the calls go on failing with this error,
      // and each tries again.
      return failure;
    }
    this.#views = new Map();
    // Remembered tokens were read by the failed core: none is current any more.
    this.#verification.tokens.clear();
    const waiters = this.#waiters;
    this.#waiters = new Map();
    for (const callbacks of waiters.values()) for (const settle of callbacks) settle({ error: failure });
    return failure;
  }

  /**
   * Runs the fetch the core asked for (from the shared store when it has a set the core adopts,
   * else from the issuer), then hands its result to every caller waiting on it. A set fetched
   * from the issuer is then written to the store; the caller that ran the fetch waits for that
   * write (bounded by storeTimeoutMs), the others do not.
   */
  async #lead(uri, flight) {
    const core = this.#core;
    const waiters = this.#waiters;
    let result;
    try {
      const stored = this.#shared !== undefined ? await this.#fromStore(core, uri, flight) : undefined;
      result = stored?.view !== undefined ? stored : await this.#fromIssuer(core, uri, flight, stored?.locked === true);
    } catch (unexpected) {
      // A bug, not an answer (the views disagreeing with the core, say): the state it leaves
      // cannot be trusted, so it is dropped as for a trap, and no waiting caller hangs on it.
      result = { error: this.#restart(core, unexpected) };
    }
    const callbacks = waiters.get(flight);
    waiters.delete(flight);
    if (callbacks !== undefined) for (const settle of callbacks) settle(result);
    if (result.written !== undefined) await result.written;
    return result;
  }

  /**
   * The shared store's answer to the fetch `flight`: a set it holds that the core adopts, or,
   * when another instance holds the store's lock on this URI (it is fetching it), the set that
   * instance writes, waited for up to half the fetch timeout. Undefined: ask the issuer.
   */
  async #fromStore(core, uri, flight) {
    const shared = this.#shared;
    const offer = (document, invalidatedAt) => this.#adopt(core, uri, flight, document, invalidatedAt);
    const { document, invalidatedAt, failed } = await shared.read(uri);
    const adopted = document === undefined ? undefined : offer(document, invalidatedAt);
    // A store that could not be read is not asked for its lock either (one timeout, not two).
    if (adopted !== undefined || failed || !shared.canLock) return this.#countRead(adopted);
    if (await shared.lock(uri, core.timeoutMs)) return { locked: true };
    return this.#countRead(await shared.await(uri, Math.min(core.timeoutMs / 2, 2_000), document?.fetchedAt, offer));
  }

  #countRead(adopted) {
    this.#telemetry.count('jwt_jwks_cache_store_reads_total', adopted === undefined ? 'miss' : 'hit');
    return adopted;
  }

  /** Offers a stored document to the core: the fetch's result when adopted, else undefined. */
  #adopt(core, uri, flight, document, storeInvalidatedAt) {
    if (core !== this.#core) return undefined;
    let now;
    try {
      now = this.#now();
    } catch {
      return undefined;
    }
    let read;
    try {
      // Not a set fetched before the last invalidation, heard here or found in the store.
      const notBefore = Math.max(this.#invalidatedAt.get(uri) ?? 0, storeInvalidatedAt ?? 0);
      read = core.adopt(uri, flight, document.body, document.cacheControl, document.fetchedAt, notBefore, now);
    } catch (thrown) {
      // A document the rules of a response refuse (or a stamp that is no time) is the store's
      // fault: reported, and the issuer is asked. Anything else is a trap, for #lead.
      if (!isCoreError(thrown)) throw thrown;
      this.#storeError('get', toPublicError(thrown), uri);
      return undefined;
    }
    if (read === undefined) return undefined;
    const view = keyView(read, document.body);
    if (read.stored) this.#views.set(uri, view);
    this.#telemetry.event(ACTIONS.REFRESHED, { uri, source: 'store', fetchedAt: read.fetchedAt, kids: view.keys.size });
    return { view };
  }

  /**
   * Fetches the set from the issuer, retrying as the core says; reports the result to the core.
   * With a store: writes the set there, and releases the store's lock when this fetch held it.
   */
  async #fromIssuer(core, uri, flight, locked) {
    const started = Date.now();
    // With a store, the set written there is stamped with when this fetch began (see write()).
    let startedAt;
    if (this.#shared !== undefined) {
      try {
        startedAt = this.#now();
      } catch {
        startedAt = undefined;
      }
    }
    const limits = { timeoutMs: core.timeoutMs, maxBytes: core.maxResponseBytes, quirks: this.#fetchQuirks };
    let outcome = await fetchJwks(this.#fetch, uri, limits);
    // A failure that may pass is tried again, as often and after as long as the core says,
    // within the fetch's timeout.
    for (let plan; (plan = this.#retryPlan(core, uri, flight, outcome)) !== undefined; ) {
      const [wait, budget] = plan;
      await new Promise((resolve) => setTimeout(resolve, wait));
      outcome = await fetchJwks(this.#fetch, uri, { ...limits, timeoutMs: budget });
    }
    const { view, read, error } = this.#report(core, uri, flight, outcome);
    const telemetry = this.#telemetry;
    telemetry.observeFetch(Math.max(0, Date.now() - started) / 1000);
    const shared = this.#shared;
    if (error !== undefined) {
      const failure = toPublicError(error);
      telemetry.count('jwt_jwks_cache_fetches_total', 'failure');
      telemetry.count('jwt_jwks_cache_fetch_errors_total', failure.code);
      telemetry.event(ACTIONS.REFRESH_FAILED, { uri, error: errorFields(failure), staleKept: this.#views.has(uri) });
      return { error, written: locked ? shared.release(uri) : undefined };
    }
    telemetry.count('jwt_jwks_cache_fetches_total', 'success');
    telemetry.event(ACTIONS.REFRESHED, { uri, source: 'issuer', fetchedAt: read.fetchedAt, kids: view.keys.size });
    if (shared === undefined || !read.stored) return { view, written: locked ? shared.release(uri) : undefined };
    const fetchedAt = typeof startedAt === 'number' && startedAt <= read.fetchedAt ? startedAt : read.fetchedAt;
    const document = { body: outcome.body, fetchedAt, cacheControl: outcome.cacheControl, ttlMs: read.usableUntil - read.fetchedAt };
    // The lock is released once the set is there to take (a failed write releases it too).
    const written = shared.write(uri, document).then(() => (locked ? shared.release(uri) : undefined));
    return { view, written };
  }

  /** The core's plan to retry a failed attempt ([wait, budget] in ms), or undefined. */
  #retryPlan(core, uri, flight, outcome) {
    if (core !== this.#core || (outcome.failed === undefined && outcome.status >= 200 && outcome.status <= 299)) return undefined;
    let now;
    try {
      now = this.#now();
    } catch {
      return undefined;
    }
    const status = outcome.failed === undefined ? outcome.status : NaN;
    return core.retry(uri, flight, status, outcome.failed ?? '', outcome.retryAfter, Math.random(), now);
  }

  #report(core, uri, flight, outcome) {
    // The core failed and was replaced while this fetch ran; its callers were told.
    if (core !== this.#core) return { error: coreFailure('the fetch belonged to the failed core') };
    let read;
    try {
      let now;
      try {
        now = this.#now();
      } catch (cause) {
        // No time, no set: the fetch ends without one, and its waiters decide again at once.
        core.abandon(uri, flight);
        return { error: clockFailure(cause) };
      }
      if (outcome.failed) return { error: core.fail(uri, flight, outcome.failed, outcome.detail, now) };
      read = core.finish(uri, flight, outcome.status, outcome.body, outcome.cacheControl, now);
    } catch (thrown) {
      return { error: isCoreError(thrown) ? thrown : this.#restart(core, thrown) };
    }
    const view = keyView(read, outcome.body);
    if (read.stored) this.#views.set(uri, view);
    return { view, read };
  }

  /**
   * Waits for another caller's fetch. The promise is created here, in this caller's context,
   * and a timer of this caller's own ends the wait at the fetch's deadline: if the request that
   * ran the fetch was cancelled (workerd does that when a client goes away), this caller decides
   * again instead of hanging. The wait never exceeds the fetch's whole budget, whatever the clock
   * says, so a clock that jumps cannot make it spin or sleep for its jump.
   */
  #join(flight, deadline) {
    const longest = this.#core.longestFlightMs;
    const now = this.#readClock();
    // A reading that is no time (the core refuses it on the next decision) waits the least.
    const left = typeof now === 'number' ? deadline - now : NaN;
    const wait = (Number.isFinite(left) ? Math.min(Math.max(0, left), longest) : 0) + 1;
    const waiters = this.#waiters;
    let callbacks = waiters.get(flight);
    if (callbacks === undefined) waiters.set(flight, (callbacks = new Set()));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        callbacks.delete(settle);
        if (callbacks.size === 0 && waiters.get(flight) === callbacks) waiters.delete(flight);
        resolve(LOST);
      }, wait);
      const settle = (result) => {
        clearTimeout(timer);
        resolve(result);
      };
      callbacks.add(settle);
    });
  }
}

/** Checks the shared store and logging options (the store's methods, not what they do). */
function checkStoreOptions(store, storeTimeoutMs, logger) {
  if (store !== undefined) {
    const valid = store !== null && typeof store === 'object' && ['get', 'set', 'delete'].every((name) => typeof store[name] === 'function');
    if (!valid) throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: store must be an object with get, set and delete methods');
  }
  if (storeTimeoutMs !== undefined && !(Number.isInteger(storeTimeoutMs) && storeTimeoutMs >= 1 && storeTimeoutMs <= 60_000)) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: storeTimeoutMs must be a whole number of milliseconds from 1 to 60000');
  }
  if (logger !== undefined && (logger === null || typeof logger !== 'object')) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: logger must be a console-like object');
  }
}

function keyIn(view, kid) {
  const jwk = view.keys.get(kid);
  if (jwk !== undefined) return jwk;
  const ambiguity = view.ambiguous.get(kid);
  if (ambiguity !== undefined) throw toPublicError(ambiguity);
  return null;
}
