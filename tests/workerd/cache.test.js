// getKey in real workerd (Miniflare 4), through the package's `workerd` entry.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';

let issuer;
let mf;
let bundleDir;

before(async () => {
  issuer = await startJwksServer();
  bundleDir = mkdtempSync(join(tmpdir(), 'jwks-cache-worker-'));
  await build({
    entryPoints: [fileURLToPath(new URL('./worker-app.js', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    loader: { '.wasm': 'copy' },
    outdir: bundleDir,
    logLevel: 'error',
  });
  mf = await startWorker('2026-04-01');
});

async function startWorker(compatibilityDate) {
  const worker = new Miniflare({
    modules: true,
    scriptPath: join(bundleDir, 'worker-app.js'),
    modulesRoot: bundleDir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate,
  });
  await worker.ready;
  return worker;
}

after(async () => {
  await mf?.dispose();
  await issuer?.close();
  rmSync(bundleDir, { recursive: true, force: true });
});

beforeEach(async () => {
  issuer.behave('ok');
  issuer.setKeys([makePublicJwk('EC', 'ec-1'), makePublicJwk('RSA', 'rsa-1')]);
  await (await mf.dispatchFetch('http://worker/reset')).text();
  issuer.resetCounts();
});

/** `uri: null` leaves the URI out of the call. */
async function getKey(kid, { uri = issuer.jwksUri, signal } = {}) {
  const query = new URLSearchParams();
  if (uri !== null) query.set('uri', uri);
  if (kid !== undefined) query.set('kid', kid);
  const response = await mf.dispatchFetch(`http://worker/key?${query}`, { signal });
  return response.json();
}

test('the bundle took the workers entry: the wasm is a separate module, not inlined bytes', () => {
  const files = readdirSync(bundleDir);
  assert.ok(files.some((f) => f.endsWith('.wasm')), files.join(', '));
});

test('getKey returns the served JWK, frozen, and null for an unknown kid after one refetch', async () => {
  const { jwk, frozen } = await getKey('rsa-1');
  assert.deepEqual(jwk, issuer.keys[1]);
  assert.equal(frozen, true);
  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0]);
  assert.equal(issuer.jwksRequests, 1, 'the second request was served from the isolate cache');
  assert.equal((await getKey('nope')).jwk, null);
  assert.equal(issuer.jwksRequests, 2);
});

for (const slowMs of [0, 300]) {
  test(`50 concurrent requests on a cold cache all succeed (issuer answers in ${slowMs} ms)`, async (t) => {
    if (slowMs) issuer.behave('slow', slowMs);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => getKey(i % 2 ? 'rsa-1' : 'ec-1')));
    for (const [i, answer] of answers.entries()) {
      assert.deepEqual(answer.jwk, issuer.keys[i % 2], JSON.stringify(answer.error));
    }
    t.diagnostic(`JWKS requests for 50 concurrent cold requests (issuer ${slowMs} ms): ${issuer.jwksRequests}`);
    assert.equal(issuer.jwksRequests, 1, 'requests joined the fetch another request started');
  });
}

test('key rotation is picked up on the first request naming the new kid', async () => {
  await getKey('ec-1');
  const rotated = issuer.rotate();
  assert.equal((await getKey(rotated)).jwk.kid, rotated);
  assert.equal(issuer.jwksRequests, 2);
});

test('errors keep their class, code and message; a good set survives a failed refresh', async () => {
  await getKey('ec-1');
  issuer.behave('status', 500);
  assert.deepEqual((await getKey('rotated')).error, {
    name: 'JwksFetchError',
    code: 'ERR_JWKS_HTTP_STATUS',
    message: 'Failed to fetch JWKS (500)',
    status: 500,
    isCacheError: true,
  });
  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0]);
  issuer.behave('garbage');
  assert.equal((await getKey('rotated')).error.code, 'ERR_JWKS_INVALID_JSON');
  const missingKid = (await getKey(undefined)).error;
  assert.deepEqual([missingKid.code, missingKid.message], ['ERR_KID_MISSING', 'Token missing key id']);
  const missingUri = (await getKey('ec-1', { uri: null })).error;
  assert.deepEqual([missingUri.code, missingUri.message], ['ERR_JWKS_URI_MISSING', 'JWKS URI missing']);
});

test('a hanging issuer times out instead of hanging the requests', async () => {
  await (await mf.dispatchFetch('http://worker/reset?timeoutMs=300')).text();
  issuer.behave('hang');
  const answers = await Promise.all(Array.from({ length: 5 }, () => getKey('ec-1')));
  for (const { error } of answers) {
    assert.equal(error.code, 'ERR_JWKS_TIMEOUT');
    assert.equal(error.message, 'Failed to fetch JWKS (no response within 300 ms)');
  }
  assert.equal(issuer.jwksRequests, 1);
});

test('the client of the request that started a fetch goes away: no other request is left hanging', { timeout: 15_000 }, async (t) => {
  // In production workerd cancels a request whose client disconnects, and with it the fetch that
  // request started. Callers that joined that fetch must not hang on it: they either get its
  // result or, past its deadline, fetch again themselves. (Miniflare lets the cancelled request's
  // fetch run to its end, so here they get its result: the timeout of the hanging fetch.)
  await (await mf.dispatchFetch('http://worker/reset?timeoutMs=500')).text();
  issuer.behave('hang');
  const client = new AbortController();
  const leader = getKey('ec-1', { signal: client.signal }).catch((error) => error);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const followers = Array.from({ length: 5 }, () => getKey('ec-1'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  client.abort();
  issuer.behave('ok');
  for (const answer of await Promise.all(followers)) {
    if (answer.jwk) assert.deepEqual(answer.jwk, issuer.keys[0]);
    else assert.equal(answer.error.code, 'ERR_JWKS_TIMEOUT', JSON.stringify(answer));
  }
  t.diagnostic(`leader: ${(await leader)?.name}; JWKS requests: ${issuer.jwksRequests}`);
  assert.deepEqual((await getKey('ec-1')).jwk, issuer.keys[0], 'the next request gets the key');
});

test('an older compatibility date (no fetch `cache` option) works the same', async () => {
  const old = await startWorker('2024-01-01');
  try {
    const get = async (kid) => (await old.dispatchFetch(`http://worker/key?uri=${encodeURIComponent(issuer.jwksUri)}&kid=${kid}`)).json();
    assert.deepEqual((await get('ec-1')).jwk, issuer.keys[0]);
    const rotated = issuer.rotate();
    assert.equal((await get(rotated)).jwk?.kid, rotated);
    assert.equal(issuer.jwksRequests, 2);
  } finally {
    await old.dispose();
  }
});
