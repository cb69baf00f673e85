// jose's jwtVerify with cache.joseKeyResolver in real workerd (Miniflare), bundled as Wrangler
// does: tokens verify, a key rotation is picked up at once, a flood of unknown kids costs the
// issuer one request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBundledWorker } from '../support/workers-bundle.js';
import { startJwksServer } from '../support/jwks-server.js';
import { makeSigner, nowSec } from '../support/signer.js';

let issuer;
let mf;

before(async () => {
  issuer = await startJwksServer();
  mf = await startBundledWorker(new URL('./jose-worker.js', import.meta.url), { bindings: { JWKS_URI: issuer.jwksUri } });
});

after(async () => {
  await mf?.dispose();
  await issuer?.close();
});

const verify = async (token) => (await mf.dispatchFetch('http://worker/verify', { method: 'POST', body: JSON.stringify({ token }) })).json();
const claims = () => ({ aud: 'api://orders', sub: 'user-1', exp: nowSec() + 600 });

test("jose's jwtVerify with joseKeyResolver in workerd: verify, rotation at once, a flood of unknown kids", async () => {
  const first = makeSigner('ES256', { kid: 'k1' });
  issuer.setKeys([first.jwk]);
  const signed = claims();
  assert.deepEqual(await verify(first.sign(signed)), { payload: signed, kid: 'k1' });
  const second = makeSigner('RS256', { kid: 'k2' });
  issuer.setKeys([first.jwk, second.jwk]);
  assert.equal((await verify(second.sign(claims()))).kid, 'k2', 'a rotated key, found by the first token naming it');
  const third = makeSigner('EdDSA', { kid: 'k3' });
  issuer.setKeys([second.jwk, third.jwk]);
  assert.equal((await verify(third.sign(claims()))).kid, 'k3', 'a second rotation right after');
  const before = issuer.jwksRequests;
  const flood = await Promise.all(Array.from({ length: 100 }, (_, i) => verify(first.sign(claims(), { header: { kid: `junk-${i}` } }))));
  assert.ok(flood.every((answer) => answer.error?.code === 'ERR_JWKS_NO_MATCHING_KEY'), JSON.stringify(flood[0]));
  assert.ok(issuer.jwksRequests - before <= 2, `${issuer.jwksRequests - before} requests for the flood`);
  const forged = makeSigner('EdDSA', { kid: 'k3' }).sign(claims());
  assert.equal((await verify(forged)).error.code, 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', "jose's own check of the signature");
});
