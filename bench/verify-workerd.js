// Token verification inside workerd (Miniflare 4, the package's `workerd` entry bundled with
// esbuild as tests/workerd does): µs per `cache.verify` for ES256, RS256 and EdDSA, unique tokens
// and 100 tokens repeated, beside the floor (crypto.subtle.verify with a CryptoKey imported once,
// on bytes prepared once) and jose's jwtVerify with createRemoteJWKSet, in the same worker.
// Each batch of N verifies is one request timed from Node, less the time of the same request with
// N = 0 (deployed Workers' clocks only move on I/O; workerd's own performance.now() inside the
// request is compared with it as a check).
// Not a test: nothing here asserts a time. Run: node bench/verify-workerd.js (after make build); it
// writes its section of verify.md. ROUNDS=1 for a quick look (printed, not written).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { startJwksServer } from '../tests/support/jwks-server.js';
import { makeSigner, nowSec } from '../tests/support/signer.js';

const MINIFLARE_VERSION = JSON.parse(readFileSync(new URL('../node_modules/miniflare/package.json', import.meta.url), 'utf8')).version;
const ALGS = ['ES256', 'RS256', 'EdDSA'];
const UNIQUE_POOL = 2048; // > 1000, the default maxVerifiedTokens: a cycled pool never hits
const REPEATED_POOL = 100;
const BATCH = { unique: UNIQUE_POOL, repeated: 4000 };
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const ISSUER = 'https://issuer.bench.test/';
const AUDIENCE = 'api://bench';

// The worker: pools of tokens posted once, then batches of verifies per contender.
//   POST /load            body { alg: { unique: [...], repeated: [...] } }, plus { jwks: [...] }
//   GET  /run?alg=&workload=&contender=&n=   n verifies, cycling through the pool -> { n, ms }
//   GET  /check?alg=      crypto.subtle.verify calls made by two passes of cache.verify over
//                         the unique pool (the verified-token cache must never answer)
const WORKER = `
import { createJwksCache } from 'jwks-cache';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const PARAMS = {
  ES256: { import: { name: 'ECDSA', namedCurve: 'P-256' }, verify: { name: 'ECDSA', hash: 'SHA-256' } },
  RS256: { import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, verify: { name: 'RSASSA-PKCS1-v1_5' } },
  EdDSA: { import: { name: 'Ed25519' }, verify: { name: 'Ed25519' } },
};
const claimOptions = ${JSON.stringify({ issuer: ISSUER, audience: AUDIENCE })};
let pools, cacheOptions, cache, joseJwks;
const rawKeys = {};
const rawInputs = new Map();
const cursors = new Map();

function rawInput(token) {
  let input = rawInputs.get(token);
  if (input === undefined) {
    const dot = token.lastIndexOf('.');
    const b64 = token.slice(dot + 1).replace(/-/g, '+').replace(/_/g, '/');
    input = [new TextEncoder().encode(token.slice(0, dot)), Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))];
    rawInputs.set(token, input);
  }
  return input;
}

const contenders = {
  'jwks-cache': (alg, token) => cache.verify(token, cacheOptions),
  jose: (alg, token) => jwtVerify(token, joseJwks, claimOptions),
  floor: async (alg, token) => {
    const [input, signature] = rawInput(token);
    if (!(await crypto.subtle.verify(PARAMS[alg].verify, rawKeys[alg], signature, input))) throw new Error('floor: invalid');
  },
};

async function run(alg, workload, contender, n) {
  const pool = pools[alg][workload];
  const key = alg + workload + contender;
  let at = cursors.get(key) ?? 0;
  const verify = contenders[contender];
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    await verify(alg, pool[at]);
    at = (at + 1) % pool.length;
  }
  cursors.set(key, at);
  return { n, ms: performance.now() - started };
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const q = (name) => url.searchParams.get(name);
    if (url.pathname === '/load') {
      const body = await request.json();
      pools = body.pools;
      cacheOptions = { jwksUri: body.jwksUri, ...claimOptions };
      cache = createJwksCache();
      joseJwks = createRemoteJWKSet(new URL(body.jwksUri));
      for (const jwk of body.jwks) rawKeys[jwk.alg] = await crypto.subtle.importKey('jwk', jwk, PARAMS[jwk.alg].import, false, ['verify']);
      // Warm: each contender verifies each algorithm's first repeated token once.
      for (const alg of Object.keys(pools)) for (const verify of Object.values(contenders)) await verify(alg, pools[alg].repeated[0]);
      return Response.json({ ok: true });
    }
    if (url.pathname === '/run') return Response.json(await run(q('alg'), q('workload'), q('contender'), Number(q('n'))));
    if (url.pathname === '/check') {
      const subtle = crypto.subtle;
      const original = subtle.verify;
      let calls = 0;
      subtle.verify = function (...args) {
        calls += 1;
        return original.apply(this, args);
      };
      try {
        for (let pass = 0; pass < 2; pass++) for (const token of pools[q('alg')].unique) await cache.verify(token, cacheOptions);
      } finally {
        subtle.verify = original;
      }
      return Response.json({ calls, verifies: 2 * pools[q('alg')].unique.length });
    }
    return new Response('not found', { status: 404 });
  },
};
`;

const load = [loadavg()[0]];
const started = performance.now();
const benchDir = fileURLToPath(new URL('.', import.meta.url));
const bundleDir = mkdtempSync(join(tmpdir(), 'jwks-cache-bench-worker-'));
await build({
  stdin: { contents: WORKER, resolveDir: benchDir, sourcefile: 'verify-worker.js', loader: 'js' },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker', 'browser'],
  loader: { '.wasm': 'copy' },
  outfile: join(bundleDir, 'worker.js'),
  logLevel: 'error',
});
const mf = new Miniflare({
  modules: true,
  scriptPath: join(bundleDir, 'worker.js'),
  modulesRoot: bundleDir,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
  compatibilityDate: '2026-04-01',
});
await mf.ready;

const signers = Object.fromEntries(ALGS.map((alg) => [alg, makeSigner(alg, { kid: `bench-${alg}`, jwkMembers: { alg, use: 'sig' } })]));
const issuer = await startJwksServer({ keyCount: 0 });
issuer.setKeys(ALGS.map((alg) => signers[alg].jwk));
const iat = nowSec();
let serial = 0;
const tokens = (alg, count) =>
  Array.from({ length: count }, () =>
    signers[alg].sign({ iss: ISSUER, sub: 'user-1234', aud: AUDIENCE, iat, exp: iat + 3600, jti: `t${serial++}` }, { header: { typ: 'JWT' } }),
  );
const pools = Object.fromEntries(ALGS.map((alg) => [alg, { unique: tokens(alg, UNIQUE_POOL), repeated: tokens(alg, REPEATED_POOL) }]));

const call = async (path, init) => {
  const response = await mf.dispatchFetch(`http://worker${path}`, init);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
};
await call('/load', { method: 'POST', body: JSON.stringify({ pools, jwksUri: issuer.jwksUri, jwks: ALGS.map((alg) => signers[alg].jwk) }) });
const checks = [];
for (const alg of ALGS) {
  const { calls, verifies } = await call(`/check?alg=${alg}`);
  if (calls !== verifies) throw new Error(`${alg}: ${calls} signature checks for ${verifies} unique verifies`);
  checks.push(`${alg} ${calls}/${verifies}`);
}

const CONTENDERS = ['floor', 'jwks-cache', 'jose'];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
/** Wall time of one /run request, ms. */
async function timed(alg, workload, contender, n) {
  const begun = performance.now();
  const answer = await call(`/run?alg=${alg}&workload=${workload}&contender=${contender}&n=${n}`);
  return { wall: performance.now() - begun, inside: answer.ms };
}
const results = {}; // `${alg} ${workload} ${contender}` -> µs per verify, per round
let insideClockMoved = 0;
const inside = {}; // the same, by workerd's performance.now() inside the request
for (const alg of ALGS) {
  for (const workload of ['unique', 'repeated']) {
    for (let round = -1; round < ROUNDS; round++) {
      for (const contender of CONTENDERS) {
        const n = BATCH[workload];
        const empty = await timed(alg, workload, contender, 0);
        const full = await timed(alg, workload, contender, n);
        if (full.inside > 0) insideClockMoved += 1;
        if (round >= 0) (results[`${alg} ${workload} ${contender}`] ??= []).push(((full.wall - empty.wall) * 1000) / n);
        if (round >= 0) (inside[`${alg} ${workload} ${contender}`] ??= []).push((full.inside * 1000) / n);
      }
    }
  }
}
await mf.dispose();
await issuer.close();
rmSync(bundleDir, { recursive: true, force: true });
load.push(loadavg()[0]);

const us = (alg, workload, contender) => median(results[`${alg} ${workload} ${contender}`]);
/** Median of the per-round ratios a / b (each round ran them back to back). */
const paired = (alg, workload, a, b) => median(results[`${alg} ${workload} ${a}`].map((x, i) => x / results[`${alg} ${workload} ${b}`][i]));
const clockGap = median(Object.keys(results).map((k) => Math.abs(median(inside[k]) / median(results[k]) - 1)));
const spreads = Object.values(results)
  .map((r) => Math.max(...r) / Math.min(...r) - 1)
  .sort((a, b) => a - b);
const pct = (x) => `${(x * 100).toFixed(0)}%`;
const f = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
const lines = [
  `workerd (Miniflare ${MINIFLARE_VERSION}, compatibility date 2026-04-01), Node ${process.version} host, ${cpus()[0].model.trim()} (${cpus().length} cores, shared), ${new Date().toISOString().slice(0, 10)};`,
  `\`node bench/verify-workerd.js\`; median of ${ROUNDS} rounds (after one warm-up round) of one request each, ${BATCH.unique} verifies per request`,
  `for unique tokens and ${BATCH.repeated} for repeated ones, timed from Node less the same request with no verify (workerd's own`,
  `performance.now() inside the request ${insideClockMoved === 0 ? 'did not move' : `agrees: median gap ${pct(clockGap)}`}). Load average ${load[0].toFixed(2)} at start, ${load[1].toFixed(2)} at end; round-to-round spread`,
  `(max/min - 1) of a cell: median ${pct(median(spreads))}, worst ${pct(spreads.at(-1))}. Run took ${((performance.now() - started) / 1000).toFixed(0)} s.`,
  `Unique: ${UNIQUE_POOL} distinct tokens per algorithm, cycled (signature checks counted over two passes: ${checks.join(', ')}).`,
  `Floor: crypto.subtle.verify with a CryptoKey imported once, on the signing input and signature bytes prepared once. Ratios: median of`,
  `the per-round ratios of µs (floor / jwks-cache is jwks-cache's speed as a share of the floor's, like the Node table's; jose / jwks-cache > 1: faster than jose).`,
  '',
  '| alg | workload | floor: crypto.subtle.verify, µs | jwks-cache verify, µs | floor / jwks-cache | jose jwtVerify, µs | jose / jwks-cache |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...ALGS.flatMap((alg) =>
    ['unique', 'repeated'].map((workload) => {
      const [floor, ours, jose] = CONTENDERS.map((c) => us(alg, workload, c));
      const vsFloor = paired(alg, workload, 'floor', 'jwks-cache');
      const vsJose = paired(alg, workload, 'jose', 'jwks-cache');
      return `| ${alg} | ${workload === 'unique' ? 'unique' : `${REPEATED_POOL} repeated`} | ${f(floor)} | ${f(ours)} | ${vsFloor.toFixed(2)}x | ${f(jose)} | ${vsJose.toFixed(2)}x |`;
    }),
  ),
];
const text = lines.join('\n');
console.log(text);
if (process.env.ROUNDS === undefined) writeSection('workerd', `## workerd\n\n${text}`);

/** Replaces this script's section of verify.md (bench/verify.js writes the other one). */
function writeSection(name, body) {
  const file = new URL('./verify.md', import.meta.url);
  const open = `<!-- ${name}: written by bench/verify${name === 'node' ? '' : '-workerd'}.js -->`;
  const close = `<!-- /${name} -->`;
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : '# Token verification benchmarks\n\n<!-- node -->\n<!-- /node -->\n\n<!-- workerd -->\n<!-- /workerd -->\n';
  const start = doc.search(new RegExp(`<!-- ${name}[ :-]`));
  const end = doc.indexOf(close);
  const section = `${open}\n${body}\n${close}`;
  doc = start >= 0 && end > start ? doc.slice(0, start) + section + doc.slice(end + close.length) : `${doc.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, doc);
}
