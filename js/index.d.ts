/** A JSON Web Key as the JWKS served it (deeply frozen: shared by every caller). */
export type Jwk = {
  readonly kty: string;
  readonly kid: string;
  readonly use?: string;
  readonly alg?: string;
  readonly key_ops?: readonly string[];
  readonly [member: string]: unknown;
};

export interface JwksCacheOptions {
  /**
   * How long a fetched set is fresh, in ms. Default: the response's `Cache-Control: max-age`,
   * clamped to 1 minute .. 24 hours, else 300000 (5 minutes). When given, it rules. 0 to 31536000000.
   */
  ttlMs?: number;
  /** Budget for one JWKS request (response and body), in ms. Default 5000. 1 to 600000. */
  timeoutMs?: number;
  /**
   * Largest JWKS response body, in bytes as decoded (after any Content-Encoding), counted as it
   * streams in: past it, reading stops and the call fails with `ERR_JWKS_RESPONSE_TOO_LARGE`.
   * Default 524288 (512 KiB). 1 to 16777216.
   */
  maxResponseBytes?: number;
  /**
   * Most entries a response's `keys` array may hold; more fail with `ERR_JWKS_TOO_MANY_KEYS`.
   * Default 100. 1 to 1000.
   */
  maxKeys?: number;
  /**
   * The fetch to use. Default: the global `fetch`, looked up on each request. `init.cache` is
   * `'no-store'` unless the runtime refused that member once (older workerd compatibility dates).
   */
  fetch?: (
    input: string,
    init: { signal: AbortSignal; headers: Record<string, string>; cache?: 'no-store' },
  ) => Promise<Response>;
  /**
   * The clock, in ms since the epoch. Default `Date.now`. A reading that is not a number from 0
   * to 8.64e15, or a clock that throws, fails the call with `ERR_CLOCK_INVALID`.
   */
  now?: () => number;
  /**
   * How many tokens whose signature verified `verify` remembers, so that a token presented again
   * is answered without a signature check (its claims are still checked on every call). An entry
   * holds while the set that verified it is the current, fresh one, and never past the token's
   * `exp`. Default 1000; 0 turns it off. 0 to 10000.
   */
  maxVerifiedTokens?: number;
  /**
   * Fetch `http:` JWKS URIs of any host. Default false: `http:` is refused (`ERR_JWKS_URI_INVALID`)
   * except for this machine's loopback (`localhost`, `127.x.x.x`, `[::1]`); a key set fetched in
   * the clear can be rewritten on the way. For tests.
   */
  allowInsecureHttp?: boolean;
  /**
   * How long past its TTL a set is still served (at once, refreshed in the background; and while
   * refreshing fails), in ms. Past it, lookups fail closed with the refresh's error. Default
   * 3600000 (1 hour). 0 to 604800000.
   */
  maxStaleMs?: number;
  /**
   * The window of the refetch budget for unknown kids (one refetch for any kid, one for a kid seen
   * missing before; a refetch that finds its kid is free), and the longest wait between failing
   * fetches, in ms. Default 30000. 1000 to 3600000.
   */
  refetchCooldownMs?: number;
  /** Most URIs kept; past it, the least recently looked up is forgotten. Default 100. 1 to 100000. */
  maxEntries?: number;
  /**
   * Refresh every cached set in the background this often, in ms (long-lived processes). The
   * timer never keeps a Node process alive; `close()` stops it. Default: off. 1000 to 86400000.
   */
  refreshIntervalMs?: number;
  /**
   * The JWKS URIs this cache may fetch: each entry a URL prefix with a path
   * (`https://issuer.example/`, or a whole URI); any other URI is `ERR_JWKS_URI_INVALID` before
   * any request. Default: any https URI (and http to loopback).
   */
  allowedJwksUris?: readonly string[];
  /**
   * Where background work goes (the refresh of a stale set): in Workers, the request's
   * `ctx.waitUntil`, so that it outlives the response. `verify` takes it per call too.
   */
  waitUntil?: (work: Promise<unknown>) => void;
  /**
   * Retries of a fetch that failed with a network error, a 5xx or a 429 (after its Retry-After),
   * with doubling jittered waits from 100 ms, within `timeoutMs`. Default 2. 0 to 5.
   */
  maxRetries?: number;
  /**
   * A store shared by many instances (Redis: `jwks-cache/redis`; Workers KV:
   * `jwks-cache/workers-kv`; one process: `memoryStore()`): a set fetched by one instance
   * answers the others, and `invalidate` reaches them all. Never a single point of failure.
   */
  store?: JwksStore;
  /** The bound of one store operation, in ms; past it the cache goes on without the store. Default 250. 1 to 60000. */
  storeTimeoutMs?: number;
  /** Audit events (invalidations, refreshes, failures, stale keys served...); a throwing handler is ignored. */
  onEvent?: (event: JwksCacheEvent) => void;
  /** A console-like logger (pino, winston, console), called as `logger[level](context, message)`. Silent by default. */
  logger?: { debug?: Function; info?: Function; warn?: Function };
  /** Verify options that every `verify` call gets unless it gives its own (e.g. `{ issuer, audience }`). */
  verifyOptions?: Partial<VerifyOptions>;
  /**
   * Node: check the signatures of tokens not yet remembered on libuv's thread pool instead of the
   * event loop (default false): more requests per second for a server under concurrent load on
   * several cores, fewer for calls made one after another. Elsewhere signatures are checked by
   * crypto.subtle, asynchronous already.
   */
  offloadSignatures?: boolean;
}

/** The shared store interface (see README "Shared store"). */
export interface JwksStore {
  get(key: string): Promise<string | null | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  /** Set `key` if absent, for `ttlMs`; true when it was set. */
  lock?(key: string, ttlMs: number): Promise<boolean>;
  publish?(channel: string, message: string): Promise<unknown>;
  /** Resolves to the function that ends the subscription. */
  subscribe?(channel: string, onMessage: (message: string) => void): Promise<() => void>;
}

export type JwksCacheAction =
  | 'JWKS_CACHE_REFRESHED'
  | 'JWKS_CACHE_REFRESH_FAILED'
  | 'JWKS_CACHE_STALE_SERVED'
  | 'JWKS_CACHE_REFRESH_SUPPRESSED'
  | 'JWKS_CACHE_STORE_ERROR'
  | 'JWKS_CACHE_INVALIDATED'
  | 'JWKS_CACHE_INVALIDATION_FAILED';

export interface JwksCacheEvent {
  action: JwksCacheAction;
  /** ISO 8601, from the cache's clock. */
  timestamp: string;
  uri?: string;
  [context: string]: unknown;
}

/** An in-process store: several caches of one process given the same one share sets and invalidations. */
export declare function memoryStore(): JwksStore;

export interface JwksStatus {
  /** When the cached set was fetched, and until when it is fresh, then served while stale (ms since the epoch). */
  fetchedAt?: number;
  freshUntil?: number;
  usableUntil?: number;
  fresh?: boolean;
  /** Past its TTL, still served (refreshed in the background, or while refreshing fails). */
  stale?: boolean;
  /** How many kids the set has. */
  kids?: number;
  /** A fetch is running. */
  fetching: boolean;
  /** Until when unknown kids are answered without a refetch (the window's refetch budget is spent). */
  coolingDownUntil?: number;
  /** When the set is fetched again at the earliest: the end of its TTL, or of a failure's backoff. */
  nextRefreshAt?: number;
  /** After failed fetches: the last error, when the next fetch may start, how many failed in a row. */
  lastError?: JwksCacheError;
  retryAt?: number;
  failures?: number;
}

/** The asymmetric JWS algorithms `verify` implements. */
export type JwsAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA';

export interface VerifyOptions {
  /** The JWKS URI whose keys verify the token. Required, unless `issuer` is one string: then OpenID discovery finds it. */
  jwksUri?: string;
  /** Accepted `iss`: one, or any of a list. Checked when given. */
  issuer?: string | readonly string[];
  /** Accepted `aud`: the token's `aud` (a string or an array) must hold one of these. Checked when given. */
  audience?: string | readonly string[];
  /** Allowed `alg`s. Default: all of JwsAlgorithm. `none` and `HS*` are never allowed. */
  algorithms?: readonly JwsAlgorithm[];
  /** Leeway for `exp`, `nbf`, `iat` and `maxTokenAgeSec`, in whole seconds. Default 0. 0 to 31536000. */
  clockToleranceSec?: number;
  /** Tokens issued (`iat`) longer ago than this are expired; makes `iat` required. Whole seconds, 1 to 31536000. */
  maxTokenAgeSec?: number;
  /** Expected header `typ` (compared case-insensitively, `application/` optional). */
  typ?: string;
  /** Claims that must be present. */
  requiredClaims?: readonly string[];
  /** Whether a token without `exp` is refused. Default true. */
  requireExp?: boolean;
  /** The time to check the claims at. Default: the cache's clock. */
  currentDate?: Date;
  /** Background work of this call (a stale set's refresh) goes there: in Workers, `ctx.waitUntil.bind(ctx)`. */
  waitUntil?: (work: Promise<unknown>) => void;
}

export type JwtPayload = {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: unknown;
};

export type JwsHeader = { alg: JwsAlgorithm; kid?: string; typ?: string; [member: string]: unknown };

export interface VerifyResult {
  /** The claims (an object of the caller's own). */
  payload: JwtPayload;
  protectedHeader: JwsHeader;
  /** The JWK that verified the token (shared and frozen). */
  key: Jwk;
}

export interface VerifyJwsResult {
  payload: Uint8Array;
  protectedHeader: JwsHeader;
  key: Jwk;
}

export interface JwksCache {
  /**
   * The key with this kid from the set at `jwksUri`, or `null` when the set has none, even after
   * fetching it again once (key rotation).
   * @throws {JwksArgumentError} `ERR_JWKS_URI_MISSING`, `ERR_JWKS_URI_INVALID`, `ERR_KID_MISSING`, `ERR_KID_INVALID`, `ERR_CLOCK_INVALID`
   * @throws {JwksFetchError} `ERR_JWKS_HTTP_STATUS`, `ERR_JWKS_REDIRECT`, `ERR_JWKS_NETWORK`, `ERR_JWKS_TIMEOUT`
   * @throws {JwksResponseError} `ERR_JWKS_RESPONSE_TOO_LARGE`, `ERR_JWKS_INVALID_JSON`, `ERR_JWKS_SET_REFUSED`, `ERR_JWKS_NESTING_TOO_DEEP`, `ERR_JWKS_TOO_MANY_KEYS`, `ERR_JWKS_AMBIGUOUS_KID`
   * @throws {JwksCacheError} `ERR_JWKS_CORE_FAILURE`
   */
  getKey(jwksUri: string, kid: string, options?: { waitUntil?: (work: Promise<unknown>) => void }): Promise<Jwk | null>;
  /**
   * Verifies a JWT (JWS compact serialization, claims as payload) with the key its header selects
   * from the set at `options.jwksUri`, then checks its claims. Never throws synchronously.
   * @throws {JwtError} `ERR_JWT_MALFORMED`, `ERR_JWS_ALG_NOT_ALLOWED`, `ERR_JWS_HEADER_UNSUPPORTED`, `ERR_JWKS_NO_MATCHING_KEY`,
   *   `ERR_JWS_SIGNATURE_INVALID`, `ERR_JWT_EXPIRED`, `ERR_JWT_NOT_YET_VALID`, `ERR_JWT_CLAIM_INVALID`
   * @throws {JwksArgumentError} `ERR_INVALID_OPTION`, `ERR_JWKS_URI_MISSING`, `ERR_JWKS_URI_INVALID`, `ERR_CLOCK_INVALID`
   * @throws {JwksFetchError | JwksResponseError | JwksCacheError} as `getKey`
   */
  verify(token: string, options: VerifyOptions): Promise<VerifyResult>;
  /**
   * A key function for jose's `jwtVerify(token, cache.joseKeyResolver(jwksUri), options)`: the key
   * (a KeyObject in Node, a CryptoKey elsewhere) the protected header selects from the set.
   */
  joseKeyResolver(jwksUri: string): (protectedHeader: { alg?: string; kid?: string }) => Promise<unknown>;
  /** A JWS whose payload is any bytes, verified like a token but without claims. */
  verifyJws(jws: string, options: Pick<VerifyOptions, 'jwksUri' | 'algorithms'>): Promise<VerifyJwsResult>;
  /**
   * Fetches the set at `jwksUri` now, fresh or not (sharing a fetch already running); resolves
   * once it is cached. Rejects with the fetch's error (the set cached before stays), at once while
   * failures back off.
   */
  forceRefresh(jwksUri: string): Promise<void>;
  /** The JWKS URI OpenID discovery finds for `issuer`, as `verify({ issuer })` uses it. */
  discover(issuer: string): Promise<string>;
  /**
   * Forgets the set at `jwksUri` (the next lookup fetches it; the backoff of failing fetches stays); with a shared
   * store, there too and in the other instances. Resolves false when that shared part failed
   * (reported as JWKS_CACHE_INVALIDATION_FAILED, never thrown).
   */
  invalidate(jwksUri: string, options?: { reason?: string }): Promise<boolean>;
  /** The counters in the Prometheus text exposition format. */
  metrics(): string;
  /** The counters as numbers (for adapters such as `jwks-cache/prom-client`). */
  metricsSnapshot(): Record<string, unknown>;
  /** Where the cache stands for `jwksUri`, or null when it holds nothing for it. */
  status(jwksUri: string): JwksStatus | null;
  /** Stops the `refreshIntervalMs` timer and the store subscription; the cache still answers. */
  close(): void;
  /** Forgets every cached set, and every remembered verified token. */
  clear(): void;
}

export declare const JwksCache: {
  new (options?: JwksCacheOptions): JwksCache;
  readonly prototype: JwksCache;
};

/** @throws {JwksArgumentError} `ERR_INVALID_OPTION` for an option out of range. */
export declare function createJwksCache(options?: JwksCacheOptions): JwksCache;

export type JwksErrorCode =
  | 'ERR_JWKS_URI_MISSING'
  | 'ERR_JWKS_URI_INVALID'
  | 'ERR_KID_MISSING'
  | 'ERR_KID_INVALID'
  | 'ERR_INVALID_OPTION'
  | 'ERR_CLOCK_INVALID'
  | 'ERR_JWKS_HTTP_STATUS'
  | 'ERR_JWKS_REDIRECT'
  | 'ERR_JWKS_NETWORK'
  | 'ERR_JWKS_TIMEOUT'
  | 'ERR_JWKS_RESPONSE_TOO_LARGE'
  | 'ERR_JWKS_INVALID_JSON'
  | 'ERR_JWKS_SET_REFUSED'
  | 'ERR_OIDC_DISCOVERY_INVALID'
  | 'ERR_JWKS_NESTING_TOO_DEEP'
  | 'ERR_JWKS_TOO_MANY_KEYS'
  | 'ERR_JWKS_AMBIGUOUS_KID'
  | 'ERR_JWKS_CORE_FAILURE'
  | 'ERR_JWT_MALFORMED'
  | 'ERR_JWS_ALG_NOT_ALLOWED'
  | 'ERR_JWS_HEADER_UNSUPPORTED'
  | 'ERR_JWKS_NO_MATCHING_KEY'
  | 'ERR_JWS_SIGNATURE_INVALID'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_CLAIM_INVALID';

export declare class JwksCacheError extends Error {
  readonly code: JwksErrorCode;
  /** For errors `loadKeySet` rejects with: the URL that failed (the discovery document's or the JWKS's). */
  readonly uri?: string;
}
/** A call or option was wrong: retrying will not help. */
export declare class JwksArgumentError extends JwksCacheError {
  readonly code: 'ERR_JWKS_URI_MISSING' | 'ERR_JWKS_URI_INVALID' | 'ERR_KID_MISSING' | 'ERR_KID_INVALID' | 'ERR_INVALID_OPTION' | 'ERR_CLOCK_INVALID';
}
/** The JWKS endpoint could not be read. */
export declare class JwksFetchError extends JwksCacheError {
  readonly code: 'ERR_JWKS_HTTP_STATUS' | 'ERR_JWKS_REDIRECT' | 'ERR_JWKS_NETWORK' | 'ERR_JWKS_TIMEOUT';
  /** The HTTP status, for `ERR_JWKS_HTTP_STATUS` and `ERR_JWKS_REDIRECT` (unless the browser hid it). */
  readonly status: number | undefined;
}
/** The JWKS endpoint answered with something that cannot be used as asked. */
export declare class JwksResponseError extends JwksCacheError {
  readonly code:
    | 'ERR_JWKS_RESPONSE_TOO_LARGE'
    | 'ERR_JWKS_INVALID_JSON'
    | 'ERR_JWKS_SET_REFUSED'
    | 'ERR_OIDC_DISCOVERY_INVALID'
    | 'ERR_JWKS_NESTING_TOO_DEEP'
    | 'ERR_JWKS_TOO_MANY_KEYS'
    | 'ERR_JWKS_AMBIGUOUS_KID';
  /** For `ERR_OIDC_DISCOVERY_INVALID`: what failed, without the message having to be read. */
  readonly reason?: 'issuer' | 'network' | 'timeout' | 'too-large' | 'redirect' | 'status' | 'document';
  /** For `ERR_OIDC_DISCOVERY_INVALID` with reason `status`: the status the discovery document's URL answered. */
  readonly status?: number;
}
/** A token is not accepted: malformed, a refused algorithm or header, no key for it, a bad signature, its claims. */
export declare class JwtError extends JwksCacheError {
  readonly code:
    | 'ERR_JWT_MALFORMED'
    | 'ERR_JWS_ALG_NOT_ALLOWED'
    | 'ERR_JWS_HEADER_UNSUPPORTED'
    | 'ERR_JWKS_NO_MATCHING_KEY'
    | 'ERR_JWS_SIGNATURE_INVALID'
    | 'ERR_JWT_EXPIRED'
    | 'ERR_JWT_NOT_YET_VALID'
    | 'ERR_JWT_CLAIM_INVALID';
}

/** `cache.verify` on one cache (default options) shared by every caller in the process. */
/**
 * Node only: a cache configured by environment variables (JWT_JWKS_URL, JWT_AUTHORITY,
 * JWT_AUDIENCE, JWKS_CACHE_TYPE, REDIS_URL, JWKS_REFRESH_INTERVAL_MINUTES,
 * JWKS_ENABLE_BACKGROUND_REFRESH). @throws {JwksArgumentError} naming an invalid variable
 */
export declare function createJwksCacheFromEnv(env?: Record<string, string | undefined>, options?: JwksCacheOptions): Promise<JwksCache>;

export declare function verifyToken(token: string, jwksUri: string, options?: Omit<VerifyOptions, 'jwksUri'>): Promise<VerifyResult>;

/**
 * A JWT's header and payload, **not verified**: for inspection and debugging only. The token is
 * read strictly: three segments of canonical base64url, a header and a payload that are each one
 * JSON object without duplicate member names, at most 16 KiB.
 * @throws {JwtError} `ERR_JWT_MALFORMED`
 */
export declare function decodeJwt(token: string): {
  header: { readonly alg?: unknown; readonly kid?: unknown; readonly typ?: unknown; readonly [member: string]: unknown };
  payload: { readonly [claim: string]: unknown };
};

/** What verification would make of a token, told before any key is looked up (`inspectToken`). */
export interface TokenFinding {
  /** A verification error's code when `refused`; else `KID_MISSING`, `HEADER_KEY_IGNORED` or `ISS_MISSING`. */
  code: string;
  /** Whether verification with the default options refuses the token for this. */
  refused: boolean;
  message: string;
}

/** A time claim (`exp`, `nbf`, `iat`) in words, judged at the inspection's `now`. */
export interface TokenTime {
  claim: 'exp' | 'nbf' | 'iat';
  value: unknown;
  /** ISO 8601, when the value is a NumericDate verification accepts. */
  date: string | null;
  /** `expires in 4 min`, `expired 2 h ago`, `not valid before ... (in 3 h)`, `issued 5 min ago`... */
  text: string;
  /** Whether verification refuses the token for this claim at that time. */
  problem: boolean;
}

/**
 * A token's header, payload, time claims in words and findings, **not verified**: for people
 * debugging auth. @throws {JwtError} `ERR_JWT_MALFORMED` for a token that cannot be read
 */
export declare function inspectToken(token: string, options?: { now?: number }): {
  header: { readonly [member: string]: unknown };
  payload: { readonly [claim: string]: unknown };
  times: TokenTime[];
  findings: TokenFinding[];
};

/** One entry of a set's `keys` array, as the cache reads it. */
export interface KeySetEntry {
  index: number;
  kid: string | null;
  kty: string | null;
  alg: string | null;
  use: string | null;
  crv: string | null;
  /** The RSA modulus size. */
  bits: number | null;
  /** What it may verify; empty when ignored. */
  algorithms: JwsAlgorithm[];
  /** Why the cache ignores it, or null. */
  ignored: string | null;
}

export interface KeySetReport {
  /** False for a JSON body without a `keys` array. */
  isJwkSet: boolean;
  entries: KeySetEntry[];
}

/** Each entry of a JWKS body as the cache reads it. @throws {JwksResponseError} as a response with this body would fail */
export declare function describeKeySet(body: string | Uint8Array, options?: { maxKeys?: number; maxResponseBytes?: number }): KeySetReport;

/** The entry a token's header selects, as verification selects it, or null. */
export declare function matchKey(keySet: KeySetReport, header: { readonly [member: string]: unknown }): KeySetEntry | null;

/**
 * Finds (by OpenID discovery from `issuer`, or at `jwksUri`) and fetches a key set through a new
 * cache, which it returns holding the set (close it when done). Rejects with the cache's errors.
 */
export declare function loadKeySet(
  source: { jwksUri: string; issuer?: undefined } | { issuer: string; jwksUri?: undefined },
  cacheOptions?: JwksCacheOptions,
): Promise<{ jwksUri: string; issuer?: string; cache: JwksCache; keySet: KeySetReport }>;

/** A sentence that says what to fix for an error of this package (by its `code`). */
export declare function explainError(error: unknown): string;
