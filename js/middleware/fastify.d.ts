import type { JwtAuthOptions, JwtAuth } from './bearer-auth.js';
export type { JwtAuthOptions, JwtAuth };

/** Fastify plugin: `await app.register(jwtAuth, options)`; `request.auth` once verified. */
export declare function jwtAuth(fastify: any, options?: JwtAuthOptions): Promise<void>;
