// jose's jwtVerify on Workers with jwks-cache's joseKeyResolver as its key: one module-level
// cache shared by the requests of the isolate. POST /verify { token } -> { payload, kid } or
// 401 { error: { name, code } }. The JWKS URI comes from `env`.
import { jwtVerify } from 'jose';
import { createJwksCache } from 'jwks-cache';

const cache = createJwksCache();

export default {
  async fetch(request, env) {
    const { token } = await request.json();
    try {
      const { payload, protectedHeader } = await jwtVerify(token, cache.joseKeyResolver(env.JWKS_URI), { audience: 'api://orders' });
      return Response.json({ payload, kid: protectedHeader.kid });
    } catch (error) {
      return Response.json({ error: { name: error?.name, code: error?.code } }, { status: 401 });
    }
  },
};
