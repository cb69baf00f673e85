// The package as users get it: `npm pack` of pkg/, installed from the tarball into a project
// outside the repository, imported by name, and its TypeScript declarations checked by tsc.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startJwksServer } from '../support/jwks-server.js';
import { makeSigner, nowSec } from '../support/signer.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = (command, args, cwd) => execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
// For children that talk to this process's issuer: its event loop must keep running.
const runAsync = async (command, args, cwd) => (await promisify(execFile)(command, args, { cwd, encoding: 'utf8' })).stdout;

let project;
let issuer;
let packed;

before(async () => {
  issuer = await startJwksServer();
  project = mkdtempSync(join(tmpdir(), 'jwks-cache-consumer-'));
  [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', project, join(root, 'pkg')], root));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', join(project, packed.filename)], project);
});

after(async () => {
  await issuer.close();
  rmSync(project, { recursive: true, force: true });
});

test('the tarball holds the runtime entries, the wasm, the types and nothing else', () => {
  const files = packed.files.map((f) => f.path).sort();
  assert.deepEqual(files, [
    'LICENSE', 'README.md', 'api.js', 'browser.js', 'cache.js', 'cli.js', 'decode-jwt.js', 'discovery.js', 'env.js', 'errors.js', 'explain-error.js',
    'fetch-jwks.js', 'index.d.ts', 'inspect-token.js', 'key-set-report.js', 'key-views.js', 'middleware/bearer-auth.d.ts', 'middleware/bearer-auth.js', 'middleware/express.d.ts', 'middleware/express.js',
    'middleware/fastify.d.ts', 'middleware/fastify.js', 'middleware/hono.d.ts', 'middleware/hono.js',
    'node.js', 'package.json', 'prom-client.d.ts', 'prom-client.js', 'shared-store.js', 'signatures-node.js',
    'signatures-subtle.js', 'signatures.js', 'stores/redis.d.ts', 'stores/redis.js', 'stores/workers-kv.d.ts', 'stores/workers-kv.js',
    'telemetry.js', 'verified-tokens.js', 'verify.js', 'wasm/jwks_cache.js', 'wasm/jwks_cache_bg.wasm', 'workers.js',
  ]);
  assert.equal(packed.name, 'jwks-cache');
});

test('a project outside the repo installs the tarball and uses it by name', async () => {
  const script = `
    import { createJwksCache } from 'jwks-cache';
    const cache = createJwksCache({ ttlMs: 10 * 60 * 1000 });
    const jwk = await cache.getKey(process.argv[2], process.argv[3]);
    const missing = await cache.getKey(process.argv[2], 'no-such-kid');
    cache.clear();
    console.log(JSON.stringify({ jwk, missing, resolved: import.meta.resolve('jwks-cache') }));
  `;
  writeFileSync(join(project, 'use.mjs'), script);
  const out = JSON.parse(await runAsync('node', ['use.mjs', issuer.jwksUri, issuer.kids[0]], project));
  assert.deepEqual(out.jwk, issuer.keys[0]);
  assert.equal(out.missing, null);
  assert.match(out.resolved, /node_modules\/jwks-cache\/node\.js$/, 'Node gets the node entry');
});

test('the TypeScript declarations type-check a consumer, and reject misuse', () => {
  copyFileSync(join(root, 'tests/types/usage.ts'), join(project, 'usage.ts'));
  const tsc = join(root, 'node_modules/.bin/tsc');
  const args = ['--strict', '--noEmit', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', 'usage.ts'];
  try {
    run(tsc, args, project);
  } catch (error) {
    assert.fail(`tsc failed:\n${error.stdout}${error.stderr}`);
  }
  // And the checker is really looking: a wrong use that is not marked must fail.
  writeFileSync(join(project, 'wrong.ts'), "import { createJwksCache } from 'jwks-cache';\ncreateJwksCache().getKey(1, 2);\n");
  assert.throws(() => run(tsc, [...args.slice(0, -1), 'wrong.ts'], project), (error) => /TS2345/.test(error.stdout));
});

test('the package.json routes each runtime to the entry it can load', () => {
  const manifest = JSON.parse(readFileSync(join(project, 'node_modules/jwks-cache/package.json'), 'utf8'));
  assert.deepEqual(manifest.exports['.'], {
    types: './index.d.ts',
    workerd: './workers.js',
    node: './node.js',
    browser: './browser.js',
    default: './browser.js',
  });
});

test('npx jwks-cache: the installed command line inspects and verifies a token', async () => {
  const manifest = JSON.parse(readFileSync(join(project, 'node_modules/jwks-cache/package.json'), 'utf8'));
  assert.deepEqual(manifest.bin, { 'jwks-cache': './cli.js' });
  const keys = await startJwksServer({ keyCount: 0 });
  try {
    const signer = makeSigner('ES256', { kid: 'npx-key' });
    keys.setKeys([signer.jwk]);
    const token = signer.sign({ sub: 'npx-user', exp: nowSec() + 600 });
    // `--` keeps npx from reading the command's options (npx --version would print npm's).
    const npx = (...args) => runAsync('npx', ['--no', '--', 'jwks-cache', ...args], project);
    const inspected = JSON.parse(await npx('inspect', token, '--json'));
    assert.deepEqual(inspected.header, { alg: 'ES256', kid: 'npx-key' });
    assert.equal(inspected.payload.sub, 'npx-user');
    const verified = JSON.parse(await npx('verify', token, '--jwks-uri', keys.jwksUri, '--json'));
    assert.equal(verified.valid, true);
    assert.equal((await npx('--version')).trim(), packed.version);
    await assert.rejects(npx('inspect', 'not-a-token'), (error) => error.code === 1 && /ERR_JWT_MALFORMED/.test(error.stderr));
  } finally {
    await keys.close();
  }
});
