import type { JwtAuthOptions, JwtAuth } from './bearer-auth.js';
export type { JwtAuthOptions, JwtAuth };

/** Express middleware: `req.auth` is `{ payload, protectedHeader }` once verified. */
export declare function jwtAuth(options?: JwtAuthOptions): (req: any, res: any, next: (error?: unknown) => void) => void;
