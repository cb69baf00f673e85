// What one hostile JWKS response can cost at the default bounds (512 KiB decoded, 100 keys, 16
// levels of nesting): the longest the event loop is blocked taking it in, and how much the wasm
// memory grows. Each body is built to be as expensive as possible for one part of the work
// (parsing, comparing copies of a kid, building and freezing the key objects) and is served by an
// in-memory fetch, so that only the cache's own work is timed. Not a test: nothing asserts a time.
// Run: node bench/worst-case.js (after make build)
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { createJwksCache } from 'jwks-cache';
import { initSync } from '../node_modules/jwks-cache/wasm/jwks_cache.js';

const LIMIT = 512 * 1024;
const RUNS = 15;

/** Items from `item()` (a string or a function giving one), joined by commas, filling `room` bytes. */
function fill(room, item) {
  const next = typeof item === 'function' ? item : () => item;
  const items = [];
  for (let used = 0; ; ) {
    const text = next();
    if (used + text.length + 1 > room) break;
    items.push(text);
    used += text.length + 1;
  }
  return items.join(',');
}

let counter = 0;
/** A member name not used before, so that objects never hold duplicate members. */
const fresh = () => `m${(counter++).toString(36)}`;

/** 100 keys of equal size, each filled with `member()` items up to its share of the budget. */
function hundredKeys(kidOf, member) {
  const share = Math.floor((LIMIT - 200) / 100) - 40;
  const keys = Array.from({ length: 100 }, (_, i) => `{"kid":"${kidOf(i)}","kty":"EC",${fill(share, member)}}`);
  return `{"keys":[${keys.join(',')}]}`;
}

const bodies = {
  'numbers: [0,0,...]': () => `{"keys":[],"pad":[${fill(LIMIT - 30, '0')}]}`,
  'empty arrays: [[],[],...]': () => `{"keys":[],"pad":[${fill(LIMIT - 30, '[]')}]}`,
  'empty objects: [{},{},...]': () => `{"keys":[],"pad":[${fill(LIMIT - 30, '{}')}]}`,
  'members: {"m0":0,...}': () => `{"keys":[],"pad":{${fill(LIMIT - 30, () => `"${fresh()}":0`)}}}`,
  'nesting 16 deep, repeated': () => `{"keys":[],"pad":[${fill(LIMIT - 30, `${'['.repeat(14)}${']'.repeat(14)}`)}]}`,
  'escapes: "\\u0041..."': () => `{"keys":[],"pad":"${'\\u0041'.repeat(Math.floor((LIMIT - 30) / 6))}"}`,
  '100 keys full of members': () => hundredKeys((i) => `k${i}`, () => `"${fresh()}":0`),
  '100 keys full of arrays': () => hundredKeys((i) => `k${i}`, () => `"${fresh()}":[[0]]`),
  '100 copies of one kid, compared': () => {
    const key = `{"kid":"k0","kty":"EC",${fill(Math.floor(LIMIT / 100) - 60, () => `"${fresh()}":[0]`)}}`;
    return `{"keys":[${Array(100).fill(key).join(',')}]}`;
  },
  'two copies of one kid, nested objects, compared': () => {
    const item = `${'{"":'.repeat(12)}0${'}'.repeat(12)}`;
    const copy = (space) => `{"kid":"k0",${space}"x":[${fill(Math.floor(LIMIT / 2) - 40, item)}]}`;
    return `{"keys":[${copy('')},${copy(' ')}]}`;
  },
  'two copies of one kid, many members, compared': () => {
    const members = fill(Math.floor(LIMIT / 2) - 40, () => `"${fresh()}":0`);
    return `{"keys":[{"kid":"k0",${members}},{"kid":"k0", ${members}}]}`;
  },
  'a real set (3 RSA keys)': () =>
    JSON.stringify({ keys: Array.from({ length: 3 }, (_, i) => ({ kid: `k${i}`, kty: 'RSA', alg: 'RS256', use: 'sig', n: 'x'.repeat(342), e: 'AQAB' })) }),
};

const { memory } = initSync({ module: new Uint8Array(0) });
const rows = [];
for (const [name, make] of Object.entries(bodies)) {
  const body = new TextEncoder().encode(make());
  if (body.length > LIMIT) throw new Error(`${name}: ${body.length} bytes, over the bound`);
  const times = [];
  const before = memory.buffer.byteLength;
  let outcome;
  const cache = createJwksCache({ fetch: async () => new Response(body) });
  for (let run = 0; run < RUNS; run++) {
    cache.clear();
    // The response is in hand once fetch resolves; what follows until the answer is the work
    // the cache does synchronously on it (read, bounded, parsed, indexed, key objects built).
    const started = performance.now();
    try {
      outcome = (await cache.getKey('https://issuer.test/jwks', 'k0')) === null ? 'no key k0' : 'key k0';
    } catch (error) {
      outcome = error.code;
    }
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  rows.push({ name, bytes: body.length, median: times[RUNS >> 1], max: times.at(-1), grew: memory.buffer.byteLength - before, outcome });
}

const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const lines = [
  `Node ${process.version}, ${cpus()[0].model.trim()} (${cpus().length} cores), ${new Date().toISOString().slice(0, 10)}; ${RUNS} runs each, the cache cleared before each.`,
  '',
  '| hostile body (within the default bounds) | bytes | median ms | max ms | wasm memory grew | answer |',
  '| --- | ---: | ---: | ---: | ---: | --- |',
  ...rows.map((r) => `| ${r.name} | ${r.bytes} | ${r.median.toFixed(1)} | ${r.max.toFixed(1)} | ${mib(r.grew)} | ${r.outcome} |`),
  '',
  `wasm memory after all runs: ${mib(memory.buffer.byteLength)} (it never shrinks; the allocator reuses it).`,
];
console.log(lines.join('\n'));
writeFileSync(new URL('./worst-case.md', import.meta.url), `${lines.join('\n')}\n`);
