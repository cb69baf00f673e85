// The package in Node, Deno and Bun: one shared script (tests/runtimes/suite.js) run by each
// runtime against one real issuer on 127.0.0.1, with tokens of all ten algorithms signed here in
// Node (tests/runtimes/make-cases.js, run as a child process: see there why). Deno and Bun are the
// exact dev dependencies `deno` (its platform package @deno/<platform>-<arch>-glibc holds the
// binary) and @oven/bun-linux-x64, run from this repository's node_modules, never from a global
// install.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startJwksServer } from '../support/jwks-server.js';
import { ALGORITHMS } from '../support/signer.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SUITE = join(ROOT, 'tests/runtimes/suite.js');
const MAKE_CASES = join(ROOT, 'tests/runtimes/make-cases.js');
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
/** Filled in before(): the edge checks of the cases file, by name. */
let edgeChecks = [];
const EDGE_EXPECTED = {
  verifies: ['ES256.high-s', 'ES384.high-s', 'ES512.high-s'],
  ERR_JWKS_NO_MATCHING_KEY: ['ES256.off-curve-key'],
  ERR_JWS_SIGNATURE_INVALID: [
    ...['PS256', 'PS384', 'PS512'].flatMap((alg) => [`${alg}.salt-0`, `${alg}.salt-max`]),
    ...['ES256', 'ES384', 'ES512'].flatMap((alg) => [`${alg}.r0-s0`, `${alg}.r-s-eq-n`]),
    'EdDSA.s-plus-l',
  ],
};

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

/** Runs make-cases.js, again if it stalls (at most 3 times, 20 s each). */
async function makeCases(file, unreachableUri) {
  for (let attempt = 1; ; attempt++) {
    const error = await new Promise((resolve) =>
      execFile(process.execPath, [MAKE_CASES, file, unreachableUri], { cwd: ROOT, timeout: 20_000, killSignal: 'SIGKILL' }, resolve),
    );
    if (!error) return;
    if (!error.killed || attempt === 3) throw error;
  }
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
  dir = mkdtempSync(join(tmpdir(), 'jwks-cache-runtimes-'));
  await makeCases(join(dir, 'cases.json'), `http://127.0.0.1:${await closedPort()}/jwks`);
  const { jwks, edge } = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  edgeChecks = edge.map(({ name }) => `edge.${name}`);
  // No keys of its own (keyCount 0): it serves the cases file's set, and this process makes no key.
  issuer = await startJwksServer({ keyCount: 0 });
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
  for (const name of Object.keys(RUNTIMES)) runs.set(name, run(name));
});

after(async () => {
  await Promise.allSettled(runs.values());
  await issuer?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Bun's binary is an optional dependency published for some platforms only: elsewhere npm skips it. */
const PLATFORM_OF_BUN = 'linux-x64';
const skipped = (name) =>
  name === 'bun' && `${process.platform}-${process.arch}` !== PLATFORM_OF_BUN && !existsSync(RUNTIMES.bun.bin)
    ? `no Bun binary for ${process.platform}-${process.arch} in the dev dependencies (the tests are run on ${PLATFORM_OF_BUN})`
    : false;

for (const name of Object.keys(RUNTIMES)) {
  test(`${name}: the shared suite passes (getKey, single flight, error classes, all ten algorithms, crypto edge cases)`, { skip: skipped(name) }, async (t) => {
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

    const edgeGot = {};
    for (const check of edgeChecks) (edgeGot[result.checks[check].got] ??= []).push(check.slice('edge.'.length));
    assert.deepEqual(edgeGot, EDGE_EXPECTED);

    // The issuer's own count, not the suite's word for it.
    const seen = Object.fromEntries(Object.keys(EXPECTED_REQUESTS).map((scenario) => [scenario, counts.get(`${name}/${scenario}`) ?? 0]));
    assert.deepEqual(seen, EXPECTED_REQUESTS);
  });
}
