// Shared-store adapters for Redis (see js/shared-store.js for the interface): `redisStore` for a
// node-redis (`redis`, v4 or v5) client, `ioredisStore` for an `ioredis` client. The caller
// creates, connects and closes the client; invalidations are received on a duplicate of it,
// made here (a Redis connection in subscriber mode can run no other command), and closed by
// the returned unsubscribe function, which the cache calls on close().
//
// Commands go through each client's generic command call, so that they mean the same in every
// client version: SET key value PX ttl [NX], GET, DEL, PUBLISH, SUBSCRIBE.

/** A store on a connected node-redis client (`createClient({ url })`, then `await client.connect()`). */
export function redisStore(client) {
  checkClient(client, ['sendCommand', 'duplicate'], 'redisStore takes a node-redis client');
  return {
    ...commands((...args) => client.sendCommand(args.map(String))),
    async subscribe(channel, onMessage, signal) {
      const subscriber = client.duplicate();
      // An error event without a listener would end the process; reconnecting (and subscribing
      // again after a reconnection) is the client's job.
      subscriber.on('error', () => {});
      const close = once(() => closeRedisClient(subscriber));
      // The cache closing while this still connects (a Redis that is down) ends the connection.
      signal?.addEventListener('abort', close, { once: true });
      try {
        await subscriber.connect();
        signal?.throwIfAborted();
        await subscriber.subscribe(channel, (message) => onMessage(String(message)));
      } catch (error) {
        close();
        throw error;
      }
      return close;
    },
  };
}

/** A store on an ioredis client (`new Redis(url)`). */
export function ioredisStore(client) {
  checkClient(client, ['call', 'duplicate'], 'ioredisStore takes an ioredis client');
  return {
    ...commands((...args) => client.call(...args.map(String))),
    async subscribe(channel, onMessage, signal) {
      const subscriber = client.duplicate();
      subscriber.on('error', () => {});
      subscriber.on('message', (from, message) => {
        if (from === channel) onMessage(String(message));
      });
      const close = once(() => subscriber.disconnect());
      signal?.addEventListener('abort', close, { once: true });
      try {
        await subscriber.subscribe(channel);
        signal?.throwIfAborted();
      } catch (error) {
        close();
        throw error;
      }
      return close;
    },
  };
}

/** The store's commands, through `run(command, ...args)`: the client's generic command call. */
function commands(run) {
  return {
    get: (key) => run('GET', key),
    set: (key, value, ttlMs) => run('SET', key, value, 'PX', ttlMs),
    delete: (key) => run('DEL', key),
    lock: async (key, ttlMs) => (await run('SET', key, '1', 'PX', ttlMs, 'NX')) === 'OK',
    publish: (channel, message) => run('PUBLISH', channel, message),
  };
}

/** Closes a node-redis client (v5 `destroy`, v4 `disconnect`), whatever state it is in. */
export function closeRedisClient(client) {
  return Promise.resolve()
    .then(() => (client.destroy ?? client.disconnect).call(client))
    .catch(() => {});
}

/** `action`, run at most once. */
function once(action) {
  let done = false;
  return () => {
    if (done) return undefined;
    done = true;
    return action();
  };
}

function checkClient(client, methods, message) {
  if (client === null || typeof client !== 'object' || !methods.every((name) => typeof client[name] === 'function')) {
    throw new TypeError(message);
  }
}
