// A Fastify 5 API guarded by jwks-cache's jwtAuth plugin, against the local issuer:
//   node examples/fastify-app.js           serve on 127.0.0.1:3001 and print a token to try
//   node examples/fastify-app.js --check   make three requests and exit (what the tests run)
import Fastify from 'fastify';
import { jwtAuth } from 'jwks-cache/fastify';
import { startLocalIssuer, checkApi, AUDIENCE } from './local-issuer.js';

const issuer = await startLocalIssuer();
const app = Fastify();
await app.register(async (api) => {
  await api.register(jwtAuth, { jwksUri: issuer.jwksUri, audience: AUDIENCE });
  api.get('/api/orders', async (request) => ({ orders: [], for: request.auth.payload.sub }));
});

const check = process.argv.includes('--check');
await app.listen({ port: check ? 0 : 3001, host: '127.0.0.1' });
const origin = `http://127.0.0.1:${app.server.address().port}`;
if (check) {
  const ok = await checkApi(origin, issuer);
  await app.close();
  await issuer.close();
  process.exitCode = ok ? 0 : 1;
} else {
  console.log(`Fastify API on ${origin}; try:\n  curl -H 'Authorization: Bearer ${issuer.token()}' ${origin}/api/orders`);
}
