// A Hono app on Workers guarding /api/* with jwtAuth, as a user would write it; bundled by the
// test with esbuild and the `workerd` condition, like Wrangler. The JWKS URI comes from `env`.
import { Hono } from 'hono';
import { jwtAuth } from 'jwks-cache/hono';

const app = new Hono();
let guard;
app.get('/public', (c) => c.json({ ok: true }));
app.use('/api/*', (c, next) => {
  guard ??= jwtAuth({ jwksUri: c.env.JWKS_URI, audience: 'api://orders' });
  return guard(c, next);
});
app.get('/api/me', (c) => c.json({ sub: c.get('auth').payload.sub, alg: c.get('auth').protectedHeader.alg }));

export default app;
