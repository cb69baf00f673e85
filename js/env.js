// `createJwksCacheFromEnv(env)`: a cache configured by environment variables, for services that
// are configured that way (twelve-factor). Every variable is checked; an invalid value throws an
// error that names it. See the README's table.

import { createJwksCache } from './cache.js';
import { JwksArgumentError } from './errors.js';
import { redisStore } from './stores/redis.js';

const CACHE_TYPES = ['in_memory', 'redis'];
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
  const read = (name) => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw invalid(name, 'must be a string');
    return value.trim();
  };
  const jwksUri = read('JWT_JWKS_URL');
  const issuer = read('JWT_AUTHORITY');
  const audience = read('JWT_AUDIENCE')
    ?.split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const cacheType = read('JWKS_CACHE_TYPE') ?? 'in_memory';
  if (!CACHE_TYPES.includes(cacheType)) throw invalid('JWKS_CACHE_TYPE', `must be one of ${CACHE_TYPES.join(', ')}`);
  const redisUrl = read('REDIS_URL');
  if (cacheType === 'redis' && redisUrl === undefined) throw invalid('REDIS_URL', 'is required when JWKS_CACHE_TYPE is redis');
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw invalid('REDIS_URL', 'must be a redis:// or rediss:// URL');
  const background = read('JWKS_ENABLE_BACKGROUND_REFRESH') ?? 'false';
  if (!['true', 'false', '1', '0'].includes(background.toLowerCase())) throw invalid('JWKS_ENABLE_BACKGROUND_REFRESH', 'must be true or false');
  const intervalText = read('JWKS_REFRESH_INTERVAL_MINUTES');
  const minutes = intervalText === undefined ? DEFAULT_REFRESH_INTERVAL_MINUTES : Number(intervalText);
  // The timer's bounds (refreshIntervalMs: 1 s to 1 day), in minutes.
  if (!(Number.isFinite(minutes) && minutes * 60_000 >= 1_000 && minutes <= 24 * 60)) {
    throw invalid('JWKS_REFRESH_INTERVAL_MINUTES', 'must be a number of minutes from 1/60 (1 s) to 1440');
  }
  for (const [name, value] of [['JWT_JWKS_URL', jwksUri], ['JWT_AUTHORITY', issuer]]) {
    if (value !== undefined && !isUrl(value)) throw invalid(name, 'must be a URL');
  }

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
    if (client !== undefined) closeClient(client);
    throw error;
  }
  if (client !== undefined) {
    const close = cache.close;
    cache.close = () => {
      close();
      closeClient(client);
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

function closeClient(client) {
  Promise.resolve((client.destroy ?? client.disconnect).call(client)).catch(() => {});
}

function isUrl(value) {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function invalid(name, why) {
  return new JwksArgumentError('ERR_INVALID_OPTION', `Invalid option: environment variable ${name} ${why}`);
}
