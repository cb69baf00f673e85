// The package in Node, Deno and Bun: one shared script (tests/runtimes/suite.js) run by each
// runtime against one real issuer on 127.0.0.1, with tokens of all ten algorithms signed here in
// Node (tests/support/verify-cases.js). Deno and Bun are the exact dev dependencies `deno` (its
// platform package @deno/<platform>-<arch>-glibc holds the binary) and @oven/bun-linux-x64, run
// from this repository's node_modules, never from a global install.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { constants, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startJwksServer } from '../support/jwks-server.js';
import { b64url } from '../support/signer.js';
import { ALGORITHMS, makeVerifySuite } from '../support/verify-cases.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SUITE = join(ROOT, 'tests/runtimes/suite.js');
const modules = (...path) => join(ROOT, 'node_modules', ...path);
const libc = process.platform === 'linux' ? '-glibc' : '';

/** Each runtime: its binary, its command line, the version the lock pins, the entry its conditions pick. */
const RUNTIMES = {
  node: { bin: process.execPath, args: [SUITE], version: process.versions.node, entry: 'pkg/node.js' },
  deno: {
    bin: modules(`@deno/${process.platform}-${process.arch}${libc}`, 'deno'),
    args: ['run', '--no-prompt', '--allow-net', '--allow-read', '--allow-env', '--no-lock', SUITE],
    version: '2.9.6',
    entry: 'pkg/node.js',
  },
  bun: {
    bin: modules(`@oven/bun-${process.platform}-${process.arch}`, 'bin', 'bun'),
    args: [SUITE],
    version: '1.4.4',
    entry: 'pkg/node.js',
  },
};

/** Curve orders n of P-256, P-384, P-521 (SEC 2), and the Ed25519 group order L (RFC 8032). */
const ORDER = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512: BigInt(`0x1${'f'.repeat(65)}a51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409`),
};
const ED25519_L = 2n ** 252n + 27742317777372353535851937790883648493n;
const toBytes = (value, size) => Buffer.from(value.toString(16).padStart(size * 2, '0'), 'hex');
const toBigInt = (bytes) => BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

/** A served key whose EC point is off P-256 (tests/data/jwk-vectors.json): only the host's import can tell. */
const OFF_CURVE = {
  ...JSON.parse(readFileSync(join(ROOT, 'tests/data/jwk-vectors.json'), 'utf8')).keys.find((k) => k.name === 'ec-point-not-on-curve').jwk,
  kid: 'ec-off-curve',
};

/**
 * Tokens whose answer only the runtime's crypto decides (the core passes them on), with Node's
 * answer, which every runtime must give as well.
 */
function edgeCases(suite) {
  const edge = [];
  const add = (name, token, expect) => edge.push({ name, token, expect });
  const split = (token) => [token.slice(0, token.lastIndexOf('.')), Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url')];
  for (const alg of ['PS256', 'PS384', 'PS512']) {
    const { valid, signer } = suite.byAlg[alg];
    const [input] = split(valid.token);
    for (const [label, saltLength] of [['salt-0', 0], ['salt-max', constants.RSA_PSS_SALTLEN_MAX_SIGN]]) {
      const signature = sign(`sha${alg.slice(2)}`, Buffer.from(input), { key: signer.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
      add(`${alg}.${label}`, `${input}.${b64url(signature)}`, 'ERR_JWS_SIGNATURE_INVALID');
    }
  }
  for (const alg of ['ES256', 'ES384', 'ES512']) {
    const [input, signature] = split(suite.byAlg[alg].valid.token);
    const size = signature.length / 2;
    const n = ORDER[alg];
    add(`${alg}.r0-s0`, `${input}.${b64url(Buffer.alloc(2 * size))}`, 'ERR_JWS_SIGNATURE_INVALID');
    add(`${alg}.r-s-eq-n`, `${input}.${b64url(Buffer.concat([toBytes(n, size), toBytes(n, size)]))}`, 'ERR_JWS_SIGNATURE_INVALID');
    const highS = Buffer.concat([signature.subarray(0, size), toBytes(n - toBigInt(signature.subarray(size)), size)]);
    add(`${alg}.high-s`, `${input}.${b64url(highS)}`, 'verifies');
  }
  const [input, signature] = split(suite.byAlg.EdDSA.valid.token);
  const s = toBigInt(Buffer.from(signature.subarray(32)).reverse());
  add('EdDSA.s-plus-l', `${input}.${b64url(Buffer.concat([signature.subarray(0, 32), toBytes(s + ED25519_L, 32).reverse()]))}`, 'ERR_JWS_SIGNATURE_INVALID');
  // A valid ES256 signature over a header naming the off-curve key.
  const es = suite.byAlg.ES256;
  const offInput = `${b64url(JSON.stringify({ alg: 'ES256', kid: OFF_CURVE.kid, typ: 'JWT' }))}.${b64url(JSON.stringify(es.valid.claims))}`;
  add('ES256.off-curve-key', `${offInput}.${b64url(es.signer.signBytes(offInput))}`, 'ERR_JWKS_NO_MATCHING_KEY');
  return edge;
}

const CHECKS = [
  'getKey',
  'herd',
  'error.unreachable',
  'error.status500',
  'error.redirect',
  'error.badKid',
  'error.kidNotString',
  ...ALGORITHMS.map((alg) => `verify.${alg}`),
  'verifyRequests',
];
/** Filled in before(): the edge checks, by name. */
let edgeChecks = [];

/** What each runtime's suite must have made the issuer do, per scenario (the runner's own count). */
const EXPECTED_REQUESTS = {
  keys: 2, // the set, then one refetch for the unknown kid
  herd: 1, // 50 concurrent lookups, cold
  status500: 1, // maxRetries 0
  redirect: 1,
  redirected: 0, // the redirect's target: never followed
  badKid: 0, // refused before any request
  verify: 1, // one set for every token
};

let issuer;
let dir;
/** `${run}/${scenario}` -> JWKS requests the issuer answered. */
const counts = new Map();
/** runtime -> promise of { code, signal, stdout, stderr, ms }, all three started at once. */
const runs = new Map();

async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function run(name) {
  const { bin, args } = RUNTIMES[name];
  const started = performance.now();
  return new Promise((resolve) => {
    if (!existsSync(bin)) return resolve({ missing: bin });
    const base = `${issuer.jwksUri}?run=${name}`;
    execFile(
      bin,
      [...args, base, join(dir, 'cases.json')],
      // Deno's update check would try the network; each runtime's caches stay in the scratch dir.
      { cwd: ROOT, timeout: 45_000, killSignal: 'SIGKILL', env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', DENO_DIR: join(dir, 'deno'), NO_COLOR: '1' } },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, signal: error?.signal, stdout, stderr, ms: Math.round(performance.now() - started) }),
    );
  });
}

before(async () => {
  const suite = makeVerifySuite();
  const jwks = [...suite.jwks, OFF_CURVE];
  const edge = edgeCases(suite);
  edgeChecks = edge.map(({ name }) => `edge.${name}`);
  issuer = await startJwksServer();
  issuer.behave('respond', (req, res) => {
    const url = new URL(req.url, issuer.origin);
    const run = url.searchParams.get('run');
    const asked = url.searchParams.get('count');
    if (asked !== null) {
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ requests: counts.get(`${run}/${asked}`) ?? 0 }));
    }
    const scenario = `${run}/${url.searchParams.get('t')}`;
    counts.set(scenario, (counts.get(scenario) ?? 0) + 1);
    const status = Number(url.searchParams.get('status') ?? 200);
    setTimeout(() => {
      if (status === 302) return void res.writeHead(302, { location: `${issuer.jwksUri}?run=${run}&t=redirected` }).end();
      if (status !== 200) return void res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=600' });
      res.end(JSON.stringify({ keys: jwks }));
    }, Number(url.searchParams.get('delay') ?? 0));
  });
  dir = mkdtempSync(join(tmpdir(), 'jwks-cache-runtimes-'));
  const cases = suite.cases.map((c) => ({
    alg: c.alg,
    kid: c.signer.kid,
    sub: c.valid.claims.sub,
    name: c.valid.claims.name,
    token: c.valid.token,
    flipped: c.flipped,
  }));
  const { issuer: iss, audience } = suite.options(issuer.jwksUri);
  const unreachableUri = `http://127.0.0.1:${await closedPort()}/jwks`;
  writeFileSync(join(dir, 'cases.json'), JSON.stringify({ jwks, options: { issuer: iss, audience }, unreachableUri, cases, edge }));
  for (const name of Object.keys(RUNTIMES)) runs.set(name, run(name));
});

after(async () => {
  await Promise.allSettled(runs.values());
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const name of Object.keys(RUNTIMES)) {
  test(`${name}: the shared suite passes (getKey, single flight, error classes, all ten algorithms, crypto edge cases)`, async (t) => {
    const outcome = await runs.get(name);
    assert.equal(outcome.missing, undefined, `${name} binary missing: ${outcome.missing} (npm ci installs it)`);
    t.diagnostic(`${name}: ${outcome.ms} ms`);
    const lines = outcome.stdout.trim().split('\n');
    let result;
    try {
      result = JSON.parse(lines.at(-1));
    } catch {
      assert.fail(`${name} printed no result (exit ${outcome.code}, signal ${outcome.signal}):\n${outcome.stdout}\n${outcome.stderr}`);
    }
    const failed = Object.fromEntries(result.failures.map((check) => [check, result.checks[check]]));
    assert.deepEqual(result.failures, [], `${name} failed: ${JSON.stringify(failed)}${result.crashed ? ` crashed: ${JSON.stringify(result.crashed)}` : ''}\n${outcome.stderr}`);
    assert.equal(result.crashed, undefined);
    assert.equal(outcome.code, 0, outcome.stderr);
    assert.equal(result.runtime, name);
    assert.equal(result.version, RUNTIMES[name].version);
    assert.ok(result.entry.endsWith(RUNTIMES[name].entry), `${name} took ${result.entry}`);

    // Every check ran and passed, and what it saw is what it should have seen.
    assert.deepEqual(Object.keys(result.checks).sort(), [...CHECKS, ...edgeChecks].sort());
    for (const check of [...CHECKS, ...edgeChecks]) assert.equal(result.checks[check].ok, true, check);
    const { getKey, herd } = result.checks;
    assert.deepEqual([getKey.kids, getKey.mismatched, getKey.frozen, getKey.unknown], [ALGORITHMS.length + 1, [], true, null]);
    assert.deepEqual([herd.calls, herd.served, herd.requests], [50, 50, 1]);
    const errors = {
      unreachable: ['JwksFetchError', 'ERR_JWKS_NETWORK'],
      status500: ['JwksFetchError', 'ERR_JWKS_HTTP_STATUS'],
      redirect: ['JwksFetchError', 'ERR_JWKS_REDIRECT'],
      badKid: ['JwksArgumentError', 'ERR_KID_INVALID'],
      kidNotString: ['JwksArgumentError', 'ERR_KID_INVALID'],
    };
    for (const [check, [Class, code]] of Object.entries(errors)) {
      const got = result.checks[`error.${check}`];
      assert.deepEqual([got.class, got.name, got.code, got.isJwksCacheError, got.isError], [Class, Class, code, true, true], check);
    }
    assert.equal(result.checks['error.status500'].status, 500);
    for (const alg of ALGORITHMS) {
      const got = result.checks[`verify.${alg}`];
      assert.deepEqual(got, { ok: true, valid: true, tampered: { first: 'ERR_JWS_SIGNATURE_INVALID', middle: 'ERR_JWS_SIGNATURE_INVALID', last: 'ERR_JWS_SIGNATURE_INVALID' } }, alg);
    }

    assert.equal(edgeChecks.length, 17);
    for (const check of edgeChecks) {
      assert.equal(result.checks[check].got, check.endsWith('high-s') ? 'verifies' : check.endsWith('off-curve-key') ? 'ERR_JWKS_NO_MATCHING_KEY' : 'ERR_JWS_SIGNATURE_INVALID', check);
    }

    // The issuer's own count, not the suite's word for it.
    const seen = Object.fromEntries(Object.keys(EXPECTED_REQUESTS).map((scenario) => [scenario, counts.get(`${name}/${scenario}`) ?? 0]));
    assert.deepEqual(seen, EXPECTED_REQUESTS);
  });
}
