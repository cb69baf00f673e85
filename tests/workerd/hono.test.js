// A Hono app with jwtAuth in real workerd (Miniflare), bundled as Wrangler does (esbuild, the
// `workerd` condition, the .wasm as a module): valid, expired, wrong audience, wrong signature, no
// token, malformed header, JWKS down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBundledWorker } from '../support/workers-bundle.js';
import { startJwksServer } from '../support/jwks-server.js';
import { makeSigner, nowSec } from '../support/signer.js';

let issuer;
let mf;
let signer;

before(async () => {
  issuer = await startJwksServer();
  signer = makeSigner('ES256', { kid: 'k1' });
  issuer.setKeys([signer.jwk]);
  mf = await startBundledWorker(new URL('./hono-worker.js', import.meta.url), { bindings: { JWKS_URI: issuer.jwksUri } });
});

after(async () => {
  await mf?.dispose();
  await issuer?.close();
});

async function call(path, authorization) {
  const response = await mf.dispatchFetch(`http://worker${path}`, { headers: authorization === undefined ? {} : { authorization } });
  return { status: response.status, challenge: response.headers.get('www-authenticate'), body: await response.json() };
}

const claims = (extra = {}) => ({ aud: 'api://orders', sub: 'user-1', exp: nowSec() + 600, ...extra });

test('Hono on workerd: jwtAuth passes a valid token and refuses the others as RFC 6750 says', async () => {
  assert.deepEqual(await call('/api/me', `Bearer ${signer.sign(claims())}`), { status: 200, challenge: null, body: { sub: 'user-1', alg: 'ES256' } });
  assert.deepEqual((await call('/public')).body, { ok: true });
  const other = makeSigner('ES256', { kid: 'k1' });
  for (const [authorization, status, code] of [
    [`Bearer ${signer.sign(claims({ exp: nowSec() - 60 }))}`, 401, 'ERR_JWT_EXPIRED'],
    [`Bearer ${signer.sign(claims({ aud: 'api://other' }))}`, 401, 'ERR_JWT_CLAIM_INVALID'],
    [`Bearer ${other.sign(claims())}`, 401, 'ERR_JWS_SIGNATURE_INVALID'],
    [undefined, 401, 'ERR_JWT_MISSING'],
    ['Bearer a b', 401, 'ERR_JWT_MALFORMED'],
  ]) {
    const answer = await call('/api/me', authorization);
    assert.deepEqual([answer.status, answer.body.code], [status, code], String(authorization).slice(0, 30));
    assert.match(answer.challenge, /^Bearer/);
  }
  issuer.behave('status', 500);
  const down = await call('/api/me', `Bearer ${signer.sign(claims(), { header: { kid: 'k-unseen' } })}`);
  assert.deepEqual([down.status, down.body.code], [503, 'ERR_JWKS_HTTP_STATUS']);
  issuer.behave('ok');
});
