// `offloadSignatures` in Node: the signatures of tokens not yet remembered are checked by
// node:crypto's callback form (libuv's thread pool), with the same answers as the synchronous
// form, which stays the default. Each call of node:crypto.verify is recorded (the module's live
// binding is replaced, as bench/verify.js does), so that the test sees which form ran.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { createJwksCache } from 'jwks-cache';
import { startJwksServer } from '../support/jwks-server.js';
import { FLIP_POSITIONS, makeVerifySuite } from '../support/verify-cases.js';

const realVerify = crypto.verify;
/** 'sync' or 'callback', for each call of node:crypto.verify. */
const calls = [];

let issuer;
let suite;

before(async () => {
  crypto.verify = function (...args) {
    calls.push(typeof args[4] === 'function' ? 'callback' : 'sync');
    return realVerify.apply(this, args);
  };
  syncBuiltinESMExports();
  suite = makeVerifySuite();
  issuer = await startJwksServer();
  issuer.setKeys(suite.jwks);
});

after(async () => {
  crypto.verify = realVerify;
  syncBuiltinESMExports();
  await issuer.close();
});

beforeEach(() => {
  calls.length = 0;
});

const outcome = (promise) => promise.then(() => 'verified', (error) => error.code);

test('with offloadSignatures, every algorithm verifies and refuses as without, on the thread pool', async () => {
  const offloaded = createJwksCache({ offloadSignatures: true });
  const inline = createJwksCache();
  const options = suite.options(issuer.jwksUri);
  for (const c of suite.cases) {
    for (const [token, expected] of [[c.valid.token, 'verified'], ...FLIP_POSITIONS.map((position) => [c.flipped[position], 'ERR_JWS_SIGNATURE_INVALID'])]) {
      calls.length = 0;
      assert.equal(await outcome(offloaded.verify(token, options)), expected, `${c.alg} offloaded`);
      assert.deepEqual(calls, ['callback'], `${c.alg}: the thread pool's form`);
      calls.length = 0;
      assert.equal(await outcome(inline.verify(token, options)), expected, `${c.alg} inline`);
      assert.deepEqual(calls, ['sync'], `${c.alg}: the default is the synchronous form`);
    }
  }
  // A token remembered as verified is answered without a signature check, offloaded or not.
  calls.length = 0;
  assert.equal(await outcome(offloaded.verify(suite.cases[0].valid.token, options)), 'verified');
  assert.deepEqual(calls, []);
});

test('verifyJws offloads too; the option is a boolean', async () => {
  const cache = createJwksCache({ offloadSignatures: true });
  const { valid } = suite.cases.find((c) => c.alg === 'ES256');
  const { payload } = await cache.verifyJws(valid.token, { jwksUri: issuer.jwksUri });
  assert.ok(payload instanceof Uint8Array);
  assert.deepEqual(calls, ['callback']);
  for (const wrong of [1, 'true', null]) {
    assert.throws(() => createJwksCache({ offloadSignatures: wrong }), { code: 'ERR_INVALID_OPTION' }, String(wrong));
  }
  createJwksCache({ offloadSignatures: false });
});

test('while an offloaded check runs, the event loop goes on', async () => {
  const cache = createJwksCache({ offloadSignatures: true });
  const options = suite.options(issuer.jwksUri);
  await cache.getKey(issuer.jwksUri, suite.cases[0].valid.header.kid); // the set, warm
  const order = [];
  const verified = cache.verify(suite.cases.find((c) => c.alg === 'ES512').valid.token, options).then(() => order.push('verified'));
  setImmediate(() => order.push('immediate'));
  await verified;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ['immediate', 'verified'], 'a timer of the loop ran before the check answered');
});

test('the middleware\'s own cache offloads: a server is under concurrent load by nature', async () => {
  const { Hono } = await import('hono');
  const { jwtAuth } = await import('jwks-cache/hono');
  const options = suite.options(issuer.jwksUri);
  const app = new Hono();
  app.use('/api/*', jwtAuth({ jwksUri: options.jwksUri, issuer: options.issuer, audience: options.audience }));
  app.get('/api/me', (c) => c.json({ sub: c.get('auth').payload.sub ?? null }));
  const { valid } = suite.cases.find((c) => c.alg === 'EdDSA');
  const response = await app.request('/api/me', { headers: { authorization: `Bearer ${valid.token}` } });
  assert.equal(response.status, 200, await response.clone().text());
  assert.deepEqual(calls, ['callback']);
});
