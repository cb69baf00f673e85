// A Cloudflare Worker: a Hono API guarded by jwks-cache's jwtAuth. The JWKS URI is a variable of
// wrangler.toml (JWKS_URI); the cache is shared by the requests of the isolate, and a stale key
// set's refresh is handed to the request's waitUntil.
import { Hono } from 'hono';
import { jwtAuth } from 'jwks-cache/hono';

const app = new Hono();
let guard;
app.use('/api/*', (c, next) => {
  guard ??= jwtAuth({ jwksUri: c.env.JWKS_URI, audience: c.env.AUDIENCE });
  return guard(c, next);
});
app.get('/api/orders', (c) => c.json({ orders: [], for: c.get('auth').payload.sub }));

export default app;
