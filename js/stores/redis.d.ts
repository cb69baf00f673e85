import type { JwksStore } from '../index.js';

/** A shared store on a connected node-redis (`redis` v4 or v5) client. */
export declare function redisStore(client: unknown): JwksStore;
/** A shared store on an ioredis client. */
export declare function ioredisStore(client: unknown): JwksStore;
