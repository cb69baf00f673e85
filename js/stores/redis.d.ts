import type { JwksStore } from '../index.js';

/** A shared store on a connected node-redis (`redis` v4 or v5) client. */
export declare function redisStore(client: unknown): JwksStore;
/** A shared store on an ioredis client. */
export declare function ioredisStore(client: unknown): JwksStore;
/** Closes a node-redis client (v5 `destroy`, v4 `disconnect`), errors ignored. */
export declare function closeRedisClient(client: unknown): Promise<void>;
