import type { JwtAuthOptions, JwtAuth } from './bearer-auth.js';
export type { JwtAuthOptions, JwtAuth };

/** Hono middleware: `c.get('auth')` is `{ payload, protectedHeader }` once verified. */
export declare function jwtAuth(options?: JwtAuthOptions): (c: any, next: () => Promise<void>) => Promise<Response | void>;
