// A Hono app with jwtAuth in real workerd (Miniflare), bundled as Wrangler does (esbuild, the
// `workerd` condition, the .wasm as a module): valid, expired, wrong audience, wrong signature, no
// token, malformed header, JWKS down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { startJwksServer } from '../support/jwks-server.js';
import { makeSigner, nowSec } from '../support/signer.js';

let issuer;
let mf;
let bundleDir;
let signer;

before(async () => {
  issuer = await startJwksServer();
  signer = makeSigner('ES256', { kid: 'k1' });
  issuer.setKeys([signer.jwk]);
  bundleDir = mkdtempSync(join(tmpdir(), 'jwks-cache-hono-'));
  await build({
    entryPoints: [fileURLToPath(new URL('./hono-worker.js', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    loader: { '.wasm': 'copy' },
    outdir: bundleDir,
    logLevel: 'error',
  });
  mf = new Miniflare({
    modules: true,
    scriptPath: join(bundleDir, 'hono-worker.js'),
    modulesRoot: bundleDir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-01',
    bindings: { JWKS_URI: issuer.jwksUri },
  });
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
  await issuer?.close();
  rmSync(bundleDir, { recursive: true, force: true });
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
