// `createJwksCacheFromEnv(env)`: a cache configured by environment variables, for services that
// are configured that way (twelve-factor). Every variable is checked; an invalid value throws an
// error that names it. See the README's table.

import { createJwksCache } from './cache.js';
import { JwksArgumentError } from './errors.js';
import { closeRedisClient, redisStore } from './stores/redis.js';

const CACHE_TYPES = ['in_memory', 'redis'];
/** The bounds of verify's options (src/verify_options.rs), for the variables that set them. */
const MAX_VALUE_CHARS = 8 * 1024;
const MAX_AUDIENCES = 100;
const DEFAULT_REFRESH_INTERVAL_MINUTES = 10;
/** How long creating the cache waits for its Redis connection before going on without it. */
const CONNECT_WAIT_MS = 2_000;

/**
 * @param env the variables (default: `process.env`)
 * @param options more `createJwksCache` options (logger, onEvent...); the variables win for what they set
 * @returns a cache whose `verify(token)` uses JWT_JWKS_URL / JWT_AUTHORITY / JWT_AUDIENCE, and
 *   whose `close()` also closes the Redis connection it opened
 */
export async function createJwksCacheFromEnv(env = globalThis.process?.env ?? {}, options = {}) {
  if (env === null || typeof env !== 'object') {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: createJwksCacheFromEnv takes an object of environment variables');
  }
  const read = (name) => {
    let value;
    try {
      value = env[name];
    } catch (cause) {
      throw invalid(name, 'could not be read', cause);
    }
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw invalid(name, 'must be a string');
    if (value.length > MAX_VALUE_CHARS) throw invalid(name, `must be at most ${MAX_VALUE_CHARS} characters`);
    return value.trim();
  };
  const jwksUri = read('JWT_JWKS_URL');
  const issuer = read('JWT_AUTHORITY');
  const audience = read('JWT_AUDIENCE')
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (audience !== undefined && audience.length > MAX_AUDIENCES) throw invalid('JWT_AUDIENCE', `must name at most ${MAX_AUDIENCES} audiences`);
  const cacheType = read('JWKS_CACHE_TYPE') ?? 'in_memory';
  if (!CACHE_TYPES.includes(cacheType)) throw invalid('JWKS_CACHE_TYPE', `must be one of ${CACHE_TYPES.join(', ')}`);
  const redisUrl = read('REDIS_URL');
  if (cacheType === 'redis' && redisUrl === undefined) throw invalid('REDIS_URL', 'is required when JWKS_CACHE_TYPE is redis');
  // Never quoted: it may hold a password.
  if (redisUrl !== undefined && !['redis:', 'rediss:'].includes(parsedUrl(redisUrl)?.protocol)) throw invalid('REDIS_URL', 'must be a redis:// or rediss:// URL');
  const background = read('JWKS_ENABLE_BACKGROUND_REFRESH') ?? 'false';
  if (!['true', 'false', '1', '0'].includes(background.toLowerCase())) throw invalid('JWKS_ENABLE_BACKGROUND_REFRESH', 'must be true or false');
  const intervalText = read('JWKS_REFRESH_INTERVAL_MINUTES');
  const minutes = intervalText === undefined ? DEFAULT_REFRESH_INTERVAL_MINUTES : /^\d+(\.\d+)?$/.test(intervalText) ? Number(intervalText) : NaN;
  // The timer's bounds (refreshIntervalMs: 1 s to 1 day), in minutes.
  if (!(Number.isFinite(minutes) && minutes * 60_000 >= 1_000 && minutes <= 24 * 60)) {
    throw invalid('JWKS_REFRESH_INTERVAL_MINUTES', 'must be a number of minutes from 1/60 (1 s) to 1440');
  }
  const anyHttp = options?.allowInsecureHttp === true;
  if (jwksUri !== undefined && !isFetchable(jwksUri, anyHttp, true)) throw invalid('JWT_JWKS_URL', "must be an https URL (http only on this machine's loopback)");
  if (issuer !== undefined && !isFetchable(issuer, anyHttp, false)) throw invalid('JWT_AUTHORITY', "must be an https URL (http only on this machine's loopback) without a query");

  const verifyOptions = {};
  if (jwksUri !== undefined) verifyOptions.jwksUri = jwksUri;
  if (issuer !== undefined) verifyOptions.issuer = issuer;
  if (audience !== undefined && audience.length > 0) verifyOptions.audience = audience;
  const settings = { ...options, verifyOptions: { ...options.verifyOptions, ...verifyOptions } };
  if (['true', '1'].includes(background.toLowerCase())) settings.refreshIntervalMs = Math.round(minutes * 60_000);

  let client;
  if (cacheType === 'redis') {
    client = await connectRedis(redisUrl);
    settings.store = redisStore(client);
  }
  let cache;
  try {
    cache = createJwksCache(settings);
  } catch (error) {
    // A refused option must not leave the connection open (it would keep the process alive).
    if (client !== undefined) closeRedisClient(client);
    throw error;
  }
  if (client !== undefined) {
    const close = cache.close;
    cache.close = () => {
      close();
      closeRedisClient(client);
    };
  }
  return cache;
}

/** A node-redis client connected to `url` (the optional peer dependency `redis`). */
async function connectRedis(url) {
  let createClient;
  try {
    ({ createClient } = await import('redis'));
  } catch (cause) {
    throw new JwksArgumentError('ERR_INVALID_OPTION', 'Invalid option: JWKS_CACHE_TYPE=redis needs the `redis` package (npm install redis)', { cause });
  }
  const client = createClient({
    url,
    // Commands fail at once while disconnected instead of queueing without bound: the cache goes
    // on with memory and the issuer, and uses Redis again once the client has reconnected.
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5_000) },
  });
  // Without a listener an error event would end the process; the store reports failed commands.
  client.on('error', () => {});
  // Waited for (the client queues nothing while it is offline, so a store used before it is
  // connected fails), but not for long: a server down at start is not fatal, and the client goes
  // on connecting in the background.
  let timer;
  await Promise.race([client.connect().catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, CONNECT_WAIT_MS)))]);
  clearTimeout(timer);
  return client;
}

function parsedUrl(value) {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** An https URL, or http on loopback (the cache's rule for what it fetches); a query only when allowed. */
function isFetchable(value, anyHttp, query) {
  const url = parsedUrl(value);
  if (url === undefined || url.hash !== '' || url.username !== '' || url.password !== '' || (!query && url.search !== '')) return false;
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  return url.protocol === 'https:' || (url.protocol === 'http:' && (loopback || anyHttp));
}

function invalid(name, why, cause) {
  return new JwksArgumentError('ERR_INVALID_OPTION', `Invalid option: environment variable ${name} ${why}`, cause === undefined ? undefined : { cause });
}
