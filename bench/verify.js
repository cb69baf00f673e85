// Token verification, ops/s of awaited verifies per algorithm, for jwks-cache's `cache.verify`,
// jose's jwtVerify with createRemoteJWKSet, jwks-rsa + jsonwebtoken, and the floor: node:crypto's
// verify on the same signing input with a KeyObject made once. One run, one local issuer on
// 127.0.0.1 serving every algorithm's key, every contender warm. Two workloads:
// - unique tokens: no token is presented again before at least UNIQUE_POOL - 1 others (more than
//   jwks-cache's default maxVerifiedTokens), so its verified-token cache never answers (checked
//   below by counting node:crypto.verify calls);
//   jwks-cache also runs with maxVerifiedTokens: 0 there, to show what remembering costs;
// - 100 distinct tokens repeated (a few sessions' bearer tokens, each on many requests).
// Rounds are interleaved across contenders; a ratio is the median of per-round ratios (two
// contenders of one round ran back to back, so the machine's noise falls on both alike).
// Not a test: nothing here asserts a time. Run: node bench/verify.js (after make build); it writes
// its section of verify.md. ALGS=RS256,ES256 or ROUNDS=3 for a quick look (printed, not written).
import crypto from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { createJwksCache } from 'jwks-cache';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import jwksRsa from 'jwks-rsa';
import jwt from 'jsonwebtoken';
import { startJwksServer } from '../tests/support/jwks-server.js';
import { makeSigner, nowSec } from '../tests/support/signer.js';

const ALGS = process.env.ALGS?.split(',') ?? ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'];
/** Algorithms jsonwebtoken 9 verifies (its jwa has no EdDSA). */
const JSONWEBTOKEN_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);
const UNIQUE_POOL = 2048; // > 1000, jwks-cache's default maxVerifiedTokens
const REPEATED_POOL = 100;
const ROUNDS = Number(process.env.ROUNDS ?? 11);
const ROUND_MS = 100;
const ISSUER = 'https://issuer.bench.test/';
const AUDIENCE = 'api://bench';

const rawVerify = crypto.verify;
const pss = { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST };
const p1363 = { dsaEncoding: 'ieee-p1363' };
/** [digest, options] of node:crypto.verify per algorithm, as jwks-cache's node backend has them. */
const RAW = { RS256: ['sha256', {}], PS256: ['sha256', pss], ES256: ['sha256', p1363], ES384: ['sha384', p1363], EdDSA: [null, {}] };

const load = [loadavg()[0]];
const started = performance.now();

// One key per algorithm, all served by one issuer; tokens signed ahead of the clock.
const signers = Object.fromEntries(ALGS.map((alg) => [alg, makeSigner(alg, { kid: `bench-${alg}`, jwkMembers: { alg, use: 'sig' } })]));
const issuer = await startJwksServer({ keyCount: 0 });
issuer.setKeys(ALGS.map((alg) => signers[alg].jwk));

const iat = nowSec();
let serial = 0;
function tokens(alg, count) {
  return Array.from({ length: count }, () =>
    signers[alg].sign({ iss: ISSUER, sub: 'user-1234', aud: AUDIENCE, iat, exp: iat + 3600, jti: `t${serial++}` }, { header: { typ: 'JWT' } }),
  );
}
const pools = Object.fromEntries(ALGS.map((alg) => [alg, { unique: tokens(alg, UNIQUE_POOL), repeated: tokens(alg, REPEATED_POOL) }]));
const signedIn = performance.now() - started;

const jwksCache = createJwksCache();
const jwksCacheOff = createJwksCache({ maxVerifiedTokens: 0 });
const joseJwks = createRemoteJWKSet(new URL(issuer.jwksUri));
const jwksRsaClient = jwksRsa({ jwksUri: issuer.jwksUri, cache: true });
const claimOptions = { issuer: ISSUER, audience: AUDIENCE };
const cacheOptions = { jwksUri: issuer.jwksUri, ...claimOptions };

/** The floor's inputs per token, made once: the signing input and signature bytes. */
const rawInputs = new Map();
function rawInput(token) {
  let input = rawInputs.get(token);
  if (input === undefined) {
    const dot = token.lastIndexOf('.');
    input = [Buffer.from(token.slice(0, dot)), Buffer.from(token.slice(dot + 1), 'base64url')];
    rawInputs.set(token, input);
  }
  return input;
}

/** Contenders for one algorithm: name, verify(token) -> Promise<payload> (or a payload), or null: n/a. */
function contendersFor(alg) {
  const [digest, options] = RAW[alg];
  const rawKey = { key: crypto.createPublicKey({ key: signers[alg].jwk, format: 'jwk' }), ...options };
  const jwtOptions = { algorithms: [alg], ...claimOptions };
  return [
    {
      name: 'node:crypto.verify (floor)',
      verify: (token) => {
        const [input, signature] = rawInput(token);
        if (!rawVerify(digest, input, rawKey, signature)) throw new Error('raw: signature invalid');
      },
    },
    { name: 'jwks-cache verify', verify: (token) => jwksCache.verify(token, cacheOptions) },
    { name: 'jwks-cache, maxVerifiedTokens: 0', uniqueOnly: true, verify: (token) => jwksCacheOff.verify(token, cacheOptions) },
    { name: 'jose jwtVerify', verify: (token) => jwtVerify(token, joseJwks, claimOptions) },
    {
      name: 'jwks-rsa + jsonwebtoken',
      verify: JSONWEBTOKEN_ALGS.has(alg)
        ? async (token) => {
            const { header } = jwt.decode(token, { complete: true });
            const key = await jwksRsaClient.getSigningKey(header.kid);
            return jwt.verify(token, key.getPublicKey(), jwtOptions);
          }
        : null,
    },
  ];
}

async function opsPerSecond(verify, pool, cursor) {
  let ops = 0;
  const begun = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let i = 0; i < 10; i++) {
      await verify(pool[cursor.at]);
      cursor.at = (cursor.at + 1) % pool.length;
    }
    ops += 10;
    elapsed = performance.now() - begun;
  }
  return (ops / elapsed) * 1000;
}

/** Counts node:crypto.verify calls (jwks-cache's node backend imports it by name) while `work` runs. */
async function countingVerifies(work) {
  let calls = 0;
  crypto.verify = (...args) => ((calls += 1), rawVerify(...args));
  syncBuiltinESMExports();
  try {
    await work();
  } finally {
    crypto.verify = rawVerify;
    syncBuiltinESMExports();
  }
  return calls;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
/** 90th percentile of the rounds' ops/s, linear between ranks. */
function p90(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = 0.9 * (sorted.length - 1);
  const low = Math.floor(rank);
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (rank - low);
}

const results = {}; // alg -> workload -> name -> rounds
const checks = [];
for (const alg of ALGS) {
  const contenders = contendersFor(alg).filter((c) => c.verify !== null);
  // Warm each contender and check once that it verifies this algorithm's token.
  for (const c of contenders) {
    const payload = await c.verify(pools[alg].repeated[0]);
    if (payload !== undefined) {
      const claims = payload.payload ?? payload;
      if (claims.sub !== 'user-1234') throw new Error(`${c.name} ${alg}: wrong payload`);
    }
  }
  // The unique workload really misses jwks-cache's verified-token cache: two passes over the pool,
  // every token reaches node:crypto.verify.
  const pool = pools[alg].unique;
  const calls = await countingVerifies(async () => {
    for (let pass = 0; pass < 2; pass++) for (const token of pool) await jwksCache.verify(token, cacheOptions);
  });
  if (calls !== 2 * pool.length) throw new Error(`${alg}: ${calls} signature checks for ${2 * pool.length} unique verifies`);
  checks.push(`${alg} ${calls}/${2 * pool.length}`);

  results[alg] = {};
  for (const workload of ['unique', 'repeated']) {
    const running = contenders.filter((c) => workload === 'unique' || !c.uniqueOnly);
    const rounds = Object.fromEntries(running.map((c) => [c.name, []]));
    const cursors = Object.fromEntries(running.map((c) => [c.name, { at: 0 }]));
    // One warm-up round, then interleaved rounds so that the machine's noise falls on all alike.
    for (let round = -1; round < ROUNDS; round++) {
      for (const c of running) {
        const ops = await opsPerSecond(c.verify, pools[alg][workload], cursors[c.name]);
        if (round >= 0) rounds[c.name].push(ops);
      }
    }
    results[alg][workload] = rounds;
  }
}
const jwksRequests = issuer.jwksRequests;
await issuer.close();
load.push(loadavg()[0]);
const seconds = (performance.now() - started) / 1000;

// Tables.
const NAMES = contendersFor(ALGS[0]).map((c) => c.name);
const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)} k` : `${(n / 1e3).toFixed(2)} k`);
const stat = (alg, workload, name, f = median) => {
  const rounds = results[alg][workload][name];
  return rounds === undefined ? undefined : f(rounds);
};
function table(workload, baseName, baseLabel) {
  const names = NAMES.filter((name) => workload === 'unique' || !contendersFor(ALGS[0]).find((c) => c.name === name).uniqueOnly);
  return [
    `| alg | ${names.join(' | ')} |`,
    `| --- |${names.map(() => ' ---: |').join('')}`,
    ...ALGS.map((alg) => {
      const cells = names.map((name) => {
        const ops = stat(alg, workload, name, median);
        return ops === undefined ? 'n/a' : `${fmt(ops)} / ${fmt(p90(results[alg][workload][name]))} (${median(pairedRatios(alg, workload, name, baseName)).toFixed(2)}x)`;
      });
      return `| ${alg} | ${cells.join(' | ')} |`;
    }),
    '',
    `ops/s, median / p90 of ${ROUNDS} rounds; in brackets: ratio to ${baseLabel}, the median of the ${ROUNDS} per-round ratios.`,
  ];
}
/** Per-round ratios of a to b: each round ran a and b back to back, so they shared the machine's state. */
const pairedRatios = (alg, workload, a, b) => results[alg][workload][a].map((ops, round) => ops / results[alg][workload][b][round]);
const p10 = (values) => -p90(values.map((v) => -v));
const verdict = (value, target) => `${value.toFixed(2)}${value >= target ? '' : ' (miss)'}`;
const targets = [
  '| alg | unique: jwks-cache / floor (target >= 0.6) | unique: jwks-cache / jose (RS256 target > 2) | repeated: jwks-cache / jose (target >= 10) |',
  '| --- | ---: | ---: | ---: |',
  ...ALGS.map((alg) => {
    const both = (workload, a, b, target) => {
      const ratios = pairedRatios(alg, workload, a, b);
      return `${median(ratios) >= target ? '' : '**'}${verdict(median(ratios), target)}${median(ratios) >= target ? '' : '**'} [${p10(ratios).toFixed(2)}–${p90(ratios).toFixed(2)}]`;
    };
    return `| ${alg} | ${both('unique', 'jwks-cache verify', 'node:crypto.verify (floor)', 0.6)} | ${both('unique', 'jwks-cache verify', 'jose jwtVerify', alg === 'RS256' ? 2 : 0)} | ${both('repeated', 'jwks-cache verify', 'jose jwtVerify', 10)} |`;
  }),
];
// Round-to-round spread (max/min - 1) per cell: how noisy the machine was.
const spreads = ALGS.flatMap((alg) =>
  Object.values(results[alg]).flatMap((byName) => Object.values(byName).map((r) => Math.max(...r) / Math.min(...r) - 1)),
).sort((a, b) => a - b);
const pct = (x) => `${(x * 100).toFixed(0)}%`;

const lines = [
  `Node ${process.version}, ${cpus()[0].model.trim()} (${cpus().length} cores, shared), ${new Date().toISOString().slice(0, 10)}; \`node bench/verify.js\`;`,
  `${ROUNDS} interleaved rounds of ${ROUND_MS} ms per contender after one warm-up round; load average ${load[0].toFixed(2)} at start, ${load[1].toFixed(2)} at end;`,
  `round-to-round spread (max/min - 1) of a cell: median ${pct(median(spreads))}, worst ${pct(spreads.at(-1))}. Run took ${seconds.toFixed(0)} s (${(signedIn / 1000).toFixed(0)} s signing).`,
  '',
  `Tokens: header { alg, kid, typ }, claims iss, sub, aud, iat, exp, jti; every contender checks iss and aud (jsonwebtoken also gets`,
  `\`algorithms: [alg]\`, which it requires); jwks-rsa + jsonwebtoken is \`jwt.decode\` for the kid, \`client.getSigningKey(kid)\`,`,
  `\`jwt.verify(token, key.getPublicKey(), options)\`; jsonwebtoken 9 has no EdDSA (n/a). Keys: RSA 2048, P-256, P-384, Ed25519.`,
  `JWKS requests seen by the issuer for the whole run: ${jwksRequests}.`,
  '',
  `### Unique tokens (${UNIQUE_POOL} distinct tokens per algorithm, cycled: each is seen again only after ${UNIQUE_POOL - 1} others, past`,
  `jwks-cache's default maxVerifiedTokens of 1000; node:crypto.verify calls counted over two passes: ${checks.join(', ')})`,
  '',
  ...table('unique', 'node:crypto.verify (floor)', 'the node:crypto floor'),
  '',
  `### ${REPEATED_POOL} distinct tokens, repeated`,
  '',
  ...table('repeated', 'jose jwtVerify', 'jose'),
  '',
  `### Against the targets: median of the ${ROUNDS} per-round ratios [p10–p90 of them]`,
  '',
  ...targets,
];
const text = lines.join('\n');
console.log(text);
if (process.env.ALGS === undefined && process.env.ROUNDS === undefined) writeSection('node', `## Node\n\n${text}`);

/** Replaces this script's section of verify.md (bench/verify-workerd.js writes the other one). */
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
