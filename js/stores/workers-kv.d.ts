import type { JwksStore } from '../index.js';

/** A shared store on a Workers KV namespace binding (eventually consistent; no lock, no pub/sub). */
export declare function workersKvStore(namespace: unknown): JwksStore;
