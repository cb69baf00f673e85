// Warm hit path (ops/s of awaited lookups of a known kid) and cold herd (JWKS requests made by
// 1000 concurrent lookups on a cold cache), for jwks-cache and its peers, in one run against one
// local issuer. Not a test: nothing here asserts a time. Run: node bench/hit-path.js
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createJwksCache } from 'jwks-cache';
import { createRemoteJWKSet } from 'jose';
import jwksRsa from 'jwks-rsa';
import buildGetJwks from 'get-jwks';
import { startJwksServer } from '../tests/support/jwks-server.js';
import { createNaiveJwksCache } from './naive.js';

const ROUNDS = 7;
const ROUND_MS = 300;

const issuer = await startJwksServer({ keyCount: 3 });
const kid = issuer.kids[1];

// Each contender: a factory of fresh instances, and how to look one key up with an instance.
const contenders = [
  { name: 'jwks-cache', make: () => createJwksCache(), lookup: (c) => c.getKey(issuer.jwksUri, kid), kidOf: (k) => k.kid },
  {
    name: 'jose createRemoteJWKSet',
    make: () => createRemoteJWKSet(new URL(issuer.jwksUri)),
    lookup: (resolve) => resolve({ alg: 'ES256', kid }),
    kidOf: (key) => (key?.type === 'public' ? kid : undefined),
  },
  {
    name: 'jwks-rsa getSigningKey',
    make: () => jwksRsa({ jwksUri: issuer.jwksUri, cache: true }),
    lookup: (client) => client.getSigningKey(kid),
    kidOf: (key) => key.kid,
  },
  {
    name: 'get-jwks getJwk',
    make: () => buildGetJwks({ ttl: 5 * 60 * 1000 }),
    lookup: (g) => g.getJwk({ domain: issuer.origin, alg: 'ES256', kid }),
    kidOf: (jwk) => jwk.kid,
  },
  { name: 'naive JS (spec)', make: () => createNaiveJwksCache(), lookup: (c) => c.getKey(issuer.jwksUri, kid), kidOf: (k) => k.kid },
];

async function opsPerSecond(instance, lookup) {
  let ops = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    for (let i = 0; i < 1000; i++) await lookup(instance);
    ops += 1000;
    elapsed = performance.now() - started;
  }
  return (ops / elapsed) * 1000;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// Warm every instance, and check once that it answers the right key.
for (const c of contenders) {
  c.instance = c.make();
  const key = await c.lookup(c.instance);
  if (c.kidOf(key) !== kid) throw new Error(`${c.name} returned the wrong key`);
  c.rounds = [];
}
// Interleaved rounds spread the machine's noise over every contender alike.
for (let round = 0; round < ROUNDS; round++) {
  for (const c of contenders) c.rounds.push(await opsPerSecond(c.instance, c.lookup));
}

for (const c of contenders) {
  const instance = c.make();
  issuer.resetCounts();
  await Promise.all(Array.from({ length: 1000 }, () => c.lookup(instance)));
  c.herdRequests = issuer.jwksRequests;
}
await issuer.close();

const jose = median(contenders.find((c) => c.name.startsWith('jose')).rounds);
const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e3).toFixed(0)} k`);
const lines = [
  `Node ${process.version}, ${cpus()[0].model.trim()} (${cpus().length} cores), ${new Date().toISOString().slice(0, 10)}; median of ${ROUNDS} interleaved rounds of ${ROUND_MS} ms.`,
  '',
  '| contender | warm hit path, lookups/s | vs jose | cold herd: JWKS requests for 1000 concurrent lookups |',
  '| --- | ---: | ---: | ---: |',
  ...contenders.map((c) => {
    const ops = median(c.rounds);
    return `| ${c.name} | ${fmt(ops)} | ${(ops / jose).toFixed(2)}x | ${c.herdRequests} |`;
  }),
];
const table = lines.join('\n');
console.log(table);
writeFileSync(new URL('./results.md', import.meta.url), table + '\n');
