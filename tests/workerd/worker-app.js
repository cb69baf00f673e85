// A Worker using jwks-cache as production code would: one cache per isolate, shared by all the
// requests it serves. Bundled by the test with esbuild and the `workerd` condition, like Wrangler.
//   GET /key?uri=&kid=     -> { jwk, frozen } or 500 { error: { name, code, message, status } }
//   GET /reset?timeoutMs=  -> a new cache with that fetch timeout
import { createJwksCache, JwksCacheError } from 'jwks-cache';

let cache = createJwksCache();

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const param = (name) => url.searchParams.get(name) ?? undefined;
    if (url.pathname === '/reset') {
      const timeoutMs = param('timeoutMs');
      cache = createJwksCache(timeoutMs ? { timeoutMs: Number(timeoutMs) } : {});
      return new Response('ok');
    }
    if (url.pathname === '/clear') {
      cache.clear();
      return new Response('ok');
    }
    try {
      const jwk = await cache.getKey(param('uri'), param('kid'));
      return Response.json({ jwk, frozen: jwk === null ? null : Object.isFrozen(jwk) });
    } catch (error) {
      const { name, code, message, status } = error;
      return Response.json({ error: { name, code, message, status, isCacheError: error instanceof JwksCacheError } }, { status: 500 });
    }
  },
};
