// `app.use('/api/*', jwtAuth(options))` for Hono 4 (Workers, Node, Deno, Bun): verifies the
// request's Bearer token and sets `c.get('auth')` to `{ payload, protectedHeader }`; on Workers the
// background refresh of a stale key set is handed to the request's `waitUntil`. See
// bearer-auth.js for the answers to failures.

import { authenticate, readAuthOptions } from './bearer-auth.js';

export function jwtAuth(options) {
  const settings = readAuthOptions(options);
  return async (c, next) => {
    const result = await authenticate(settings, c, c.req.header('authorization'), waitUntilOf(c));
    if (result.failure !== undefined) {
      const { status, headers, body } = result.failure;
      return c.json(body, status, headers);
    }
    if (result.auth !== undefined) c.set('auth', result.auth);
    await next();
  };
}

/** The request's ctx.waitUntil on Workers; Hono's executionCtx throws where there is none. */
function waitUntilOf(c) {
  try {
    const ctx = c.executionCtx;
    return typeof ctx?.waitUntil === 'function' ? ctx.waitUntil.bind(ctx) : undefined;
  } catch {
    return undefined;
  }
}
