// An Express 5 API guarded by jwks-cache's jwtAuth, against the local issuer:
//   node examples/express-app.js           serve on 127.0.0.1:3000 and print a token to try
//   node examples/express-app.js --check   make three requests and exit (what the tests run)
import express from 'express';
import { jwtAuth } from 'jwks-cache/express';
import { startLocalIssuer, checkApi, AUDIENCE } from './local-issuer.js';

const issuer = await startLocalIssuer();
const app = express();
app.use('/api', jwtAuth({ jwksUri: issuer.jwksUri, audience: AUDIENCE }));
app.get('/api/orders', (req, res) => res.json({ orders: [], for: req.auth.payload.sub }));

const check = process.argv.includes('--check');
const server = app.listen(check ? 0 : 3000, '127.0.0.1', async () => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  if (check) {
    const ok = await checkApi(origin, issuer);
    server.close();
    await issuer.close();
    process.exitCode = ok ? 0 : 1;
    return;
  }
  console.log(`Express API on ${origin}; try:\n  curl -H 'Authorization: Bearer ${issuer.token()}' ${origin}/api/orders`);
});
