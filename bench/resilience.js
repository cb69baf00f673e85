// Resilience, side by side: jwks-cache, jose's createRemoteJWKSet, jwks-rsa (defaults, and with its
// rate limit and its stale fallback) and get-jwks, each against its own local issuer on 127.0.0.1
// (tests/support/jwks-server.js) that rotates keys, answers 500, garbage, or hangs on demand.
//   1. flood: a warm cache, then 1000 lookups of random unknown kids, sequential and concurrent:
//      JWKS requests made, and the latency of a known kid's lookups during the flood;
//   2. a rotation right after the (sequential) flood: lookups of the new kid until it is found;
//   3. two rotations 2 s apart on a cache warm for more than 30 s: each new kid found at once?
//   4. an outage past the TTL (500, garbage, hang): known-kid lookups answered, their latency,
//      requests sent, and whether the cache fails closed past its stale window.
// Every library runs on its real clock (no library here but jwks-cache takes one), with short
// TTLs where the scenario needs the TTL to pass; jwks-cache also runs one long outage on a
// stepped clock (its `now` option), to show its backoff over ten minutes.
// Not a test: nothing here asserts a time. Run: node bench/resilience.js (after make build); it
// prints the tables and writes them into bench/resilience.md (between its markers). About 1.5 minutes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { createJwksCache } from 'jwks-cache';
import { createRemoteJWKSet } from 'jose';
import jwksRsa from 'jwks-rsa';
import buildGetJwks from 'get-jwks';
import { startJwksServer } from '../tests/support/jwks-server.js';

const FLOOD = 1000;
const KNOWN_EVERY = 10; // one known-kid lookup per 10 flood lookups (100 samples)
const POLL_MS = 500; // a token naming a new key arrives every 500 ms
const ROTATION_CAP_MS = 70_000; // stop looking for a new kid after this long
const ROTATE_AFTER_WARM_MS = 31_000; // scenario 3 starts past jose's 30 s cooldown
const OUTAGE_TTL_MS = 1_000; // every library's TTL / cache age in the real-time outage
const OUTAGE_STALE_MS = 5_000; // jwks-cache maxStaleMs, jwks-rsa cacheMaxAgeFallback there
const OUTAGE_EVERY_MS = 100; // a known-kid lookup every 100 ms during the outage
const OUTAGE_END_MS = 8_100; // last lookup, counted from the warm fetch
const ANSWER_DEADLINE_MS = 2_000; // a lookup not answered within this counts as unanswered
const FLOOD_DEADLINE_MS = 5_000; // the same, in the concurrent flood
const PROBE_DEADLINE_MS = 12_000; // how long one lookup at TTL + 0.1 s is waited for
const MODES = [
  ['500', 'status', 500],
  ['garbage', 'garbage'],
  ['hang', 'hang'],
];

const started = performance.now();
const load = [loadavg()[0]];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const randomKid = () => `junk-${randomUUID()}`;

// ---------------------------------------------------------------------------------------------
// Contenders: make(issuer) -> instance; lookup(instance, issuer, kid) -> the key or a rejection;
// what a miss looks like (null, or a "no such key" error) is normalized by outcomeOf.

const ROTATION_CONTENDERS = [
  {
    name: 'jwks-cache (defaults)',
    make: () => createJwksCache(),
    lookup: (c, issuer, kid) => c.getKey(issuer.jwksUri, kid),
  },
  {
    name: 'jose createRemoteJWKSet (defaults: cooldown 30 s, cacheMaxAge 10 min)',
    make: (issuer) => createRemoteJWKSet(new URL(issuer.jwksUri)),
    lookup: (resolve, issuer, kid) => resolve({ alg: 'ES256', kid }),
  },
  {
    name: 'jwks-rsa (defaults: cache, cacheMaxAge 10 min, no rate limit)',
    make: (issuer) => jwksRsa({ jwksUri: issuer.jwksUri }),
    lookup: (client, issuer, kid) => client.getSigningKey(kid),
  },
  {
    name: 'jwks-rsa (rateLimit, jwksRequestsPerMinute 10, cacheMaxEntries 5, cacheMaxAge 10 min)',
    make: (issuer) =>
      jwksRsa({ jwksUri: issuer.jwksUri, cache: true, cacheMaxEntries: 5, cacheMaxAge: 600_000, rateLimit: true, jwksRequestsPerMinute: 10 }),
    lookup: (client, issuer, kid) => client.getSigningKey(kid),
  },
  {
    name: 'get-jwks (defaults: ttl 60 s, max 100)',
    make: () => buildGetJwks(),
    lookup: (g, issuer, kid) => g.getJwk({ domain: issuer.origin, alg: 'ES256', kid }),
  },
];

const rsaOutage = (extra) => (issuer) => jwksRsa({ jwksUri: issuer.jwksUri, cacheMaxAge: OUTAGE_TTL_MS, ...extra });
const OUTAGE_CONTENDERS = [
  {
    name: `jwks-cache (ttlMs 1 s, maxStaleMs 5 s)`,
    make: () => createJwksCache({ ttlMs: OUTAGE_TTL_MS, maxStaleMs: OUTAGE_STALE_MS }),
    lookup: ROTATION_CONTENDERS[0].lookup,
  },
  {
    name: 'jose (cacheMaxAge 1 s)',
    make: (issuer) => createRemoteJWKSet(new URL(issuer.jwksUri), { cacheMaxAge: OUTAGE_TTL_MS }),
    lookup: ROTATION_CONTENDERS[1].lookup,
  },
  { name: 'jwks-rsa (cacheMaxAge 1 s)', make: rsaOutage({}), lookup: ROTATION_CONTENDERS[2].lookup },
  {
    name: 'jwks-rsa (cacheMaxAge 1 s, rateLimit 10/min)',
    make: rsaOutage({ rateLimit: true, jwksRequestsPerMinute: 10 }),
    lookup: ROTATION_CONTENDERS[2].lookup,
  },
  {
    name: 'jwks-rsa (cacheMaxAge 1 s, cacheMaxAgeFallback 5 s)',
    make: rsaOutage({ cacheMaxAgeFallback: OUTAGE_STALE_MS }),
    lookup: ROTATION_CONTENDERS[2].lookup,
  },
  {
    name: 'jwks-rsa (cacheMaxAge 1 s, cacheMaxAgeFallback 5 s, rateLimit 10/min)',
    make: rsaOutage({ cacheMaxAgeFallback: OUTAGE_STALE_MS, rateLimit: true, jwksRequestsPerMinute: 10 }),
    lookup: ROTATION_CONTENDERS[2].lookup,
  },
  { name: 'get-jwks (ttl 1 s)', make: () => buildGetJwks({ ttl: OUTAGE_TTL_MS }), lookup: ROTATION_CONTENDERS[4].lookup },
];

/** What a lookup came to: found (the key of that kid), none (no such key), error, or pending. */
function outcomeOf(kid, value) {
  if (value === null || value === undefined) return { kind: 'none' };
  // jwks-cache and get-jwks: the JWK; jwks-rsa: a SigningKey; jose: a CryptoKey (no kid on it).
  if (value.kid === kid || value.type === 'public') return { kind: 'found' };
  return { kind: 'error', detail: 'wrong key' };
}
function failureOf(error) {
  const name = error?.code ?? error?.name ?? String(error);
  // Each library's "no key with that kid" is a miss, not a failure.
  if (['ERR_JWKS_NO_MATCHING_KEY', 'SigningKeyNotFoundError', 'JWK_NOT_FOUND'].includes(name)) return { kind: 'none' };
  return { kind: 'error', detail: name === 'TypeError' ? `TypeError "${String(error.message).slice(0, 40)}"` : name };
}

/** One lookup, timed from the call to its answer; unanswered after deadlineMs: pending. */
function timedLookup(contender, instance, issuer, kid, deadlineMs = 0) {
  const t0 = performance.now();
  const answer = Promise.resolve()
    .then(() => contender.lookup(instance, issuer, kid))
    .then((value) => outcomeOf(kid, value), failureOf)
    .then((outcome) => ({ ...outcome, ms: performance.now() - t0 }));
  if (!deadlineMs) return answer;
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'pending', ms: deadlineMs }), deadlineMs);
  });
  return Promise.race([answer, late]).finally(() => clearTimeout(timer));
}

const quantile = (values, q) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
};
const ms = (v) => (Number.isNaN(v) ? '-' : v < 1 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const sec = (v) => (v / 1000).toFixed(1);
const tally = (outcomes) => {
  const counts = new Map();
  for (const o of outcomes) {
    const key = o.kind === 'error' ? o.detail : o.kind;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
};

async function warm(contender, issuer) {
  const instance = contender.make(issuer);
  const first = await timedLookup(contender, instance, issuer, issuer.kids[0]);
  if (first.kind !== 'found') throw new Error(`${contender.name}: warm lookup gave ${JSON.stringify(first)}`);
  return instance;
}

// ---------------------------------------------------------------------------------------------
// 3, prepared first: caches warmed now, rotated once more than 30 s have passed.
const rotationTwice = [];
for (const contender of ROTATION_CONTENDERS) {
  const issuer = await startJwksServer();
  rotationTwice.push({ contender, issuer, instance: await warm(contender, issuer), warmedAt: performance.now() });
}

// ---------------------------------------------------------------------------------------------
// 1 and 2: flood, then a rotation. The lookups of the new kid go on in the background (one
// every POLL_MS) while the next contender is flooded.

/** Looks kid up every POLL_MS until found (or capped): lookups made, time, requests. */
async function lookUntilFound(contender, instance, issuer, kid) {
  const t0 = performance.now();
  const before = issuer.jwksRequests;
  const seen = [];
  for (let n = 1; ; n++) {
    const outcome = await timedLookup(contender, instance, issuer, kid, ANSWER_DEADLINE_MS);
    seen.push(outcome);
    if (outcome.kind === 'found') return { lookups: n, ms: performance.now() - t0, requests: issuer.jwksRequests - before, seen };
    if (performance.now() - t0 > ROTATION_CAP_MS) return { lookups: null, tried: n, ms: performance.now() - t0, requests: issuer.jwksRequests - before, seen };
    await sleep(Math.max(0, POLL_MS - outcome.ms));
  }
}

/** A throwaway flood (200 sequential, 200 concurrent), so that no contender is measured cold. */
async function warmUp(contender) {
  const issuer = await startJwksServer();
  const instance = await warm(contender, issuer);
  for (let i = 0; i < 200; i++) await timedLookup(contender, instance, issuer, randomKid(), 1_000);
  await Promise.all(Array.from({ length: 200 }, () => timedLookup(contender, instance, issuer, randomKid(), 1_000)));
  await issuer.close();
}

const floods = [];
const rotationPollers = [];
for (const contender of ROTATION_CONTENDERS) {
  const row = { contender };
  floods.push(row);
  await warmUp(contender);

  // Sequential flood, a known-kid lookup after every KNOWN_EVERY of them.
  {
    const issuer = await startJwksServer();
    const instance = await warm(contender, issuer);
    const known = issuer.kids[0];
    issuer.resetCounts();
    const misses = [];
    const knownLatency = [];
    const t0 = performance.now();
    for (let i = 0; i < FLOOD; i++) {
      misses.push(await timedLookup(contender, instance, issuer, randomKid()));
      if (i % KNOWN_EVERY === KNOWN_EVERY - 1) {
        const k = await timedLookup(contender, instance, issuer, known);
        knownLatency.push(k.kind === 'found' ? k.ms : Infinity);
      }
    }
    row.seq = { requests: issuer.jwksRequests, ms: performance.now() - t0, misses: tally(misses), known: knownLatency };

    // 2: the issuer publishes a new key (keeping the old ones) right after the flood.
    const newKid = issuer.rotate({ keepOld: true });
    rotationPollers.push(
      lookUntilFound(contender, instance, issuer, newKid).then(async (result) => {
        row.rotation = result;
        await issuer.close();
      }),
    );
  }

  // Concurrent flood on a fresh warm instance: 1000 unknown kids and 100 known-kid lookups in
  // flight at once.
  {
    const issuer = await startJwksServer();
    const instance = await warm(contender, issuer);
    const known = issuer.kids[0];
    issuer.resetCounts();
    const t0 = performance.now();
    const misses = [];
    const knowns = [];
    for (let i = 0; i < FLOOD; i++) {
      misses.push(timedLookup(contender, instance, issuer, randomKid(), FLOOD_DEADLINE_MS));
      if (i % KNOWN_EVERY === KNOWN_EVERY - 1) knowns.push(timedLookup(contender, instance, issuer, known, FLOOD_DEADLINE_MS));
    }
    const missOutcomes = await Promise.all(misses);
    const knownOutcomes = await Promise.all(knowns);
    // Lookups still queued inside a library (jwks-rsa's rate limiter queues them) may send more
    // requests later; only those within the deadline are counted.
    row.conc = {
      requests: issuer.jwksRequests,
      ms: performance.now() - t0,
      misses: tally(missOutcomes),
      known: knownOutcomes.map((k) => (k.kind === 'found' ? k.ms : Infinity)),
      knownFailed: tally(knownOutcomes.filter((k) => k.kind !== 'found')),
    };
    await issuer.close();
  }
  console.error(`flood: ${contender.name} done`);
}

// ---------------------------------------------------------------------------------------------
// jwks-cache's long outage on a stepped clock, run while the rotations above wait in real time:
// ttlMs 60 s, maxStaleMs 10 min, a lookup every 10 s of clock time for 10 minutes past the TTL,
// then one at TTL + maxStaleMs + 1 min. After each step the clock stands still until the issuer
// has been quiet for a while, so that a refresh (and its retries, in real time) ends at the
// clock time it started.
const MINUTE = 60_000;
async function steppedOutage([label, mode, value]) {
  const issuer = await startJwksServer();
  let now = 1_700_000_000_000;
  const t0 = now;
  const options = { ttlMs: MINUTE, maxStaleMs: 10 * MINUTE, now: () => now };
  // A hanging fetch ends at timeoutMs in real time, and the clock must wait for it: 300 ms.
  if (mode === 'hang') options.timeoutMs = 300;
  const cache = createJwksCache(options);
  const contender = { lookup: (c, iss, kid) => c.getKey(iss.jwksUri, kid) };
  const known = issuer.kids[0];
  await cache.getKey(issuer.jwksUri, known);
  issuer.behave(mode, value);
  issuer.resetCounts();
  const quietMs = mode === 'status' ? 300 : mode === 'hang' ? 400 : 60;
  const outcomes = [];
  for (let at = MINUTE; at < 11 * MINUTE; at += 10_000) {
    now = t0 + at;
    const before = issuer.jwksRequests;
    outcomes.push(await timedLookup(contender, cache, issuer, known, ANSWER_DEADLINE_MS));
    await sleep(30);
    if (issuer.jwksRequests !== before) {
      // Wait until no request for quietMs.
      for (let last = issuer.jwksRequests; ; ) {
        await sleep(quietMs);
        if (issuer.jwksRequests === last) break;
        last = issuer.jwksRequests;
      }
    }
  }
  const requests = issuer.jwksRequests;
  now = t0 + 12 * MINUTE;
  const after = await timedLookup(contender, cache, issuer, known, ANSWER_DEADLINE_MS);
  await sleep(mode === 'hang' ? 400 : 50);
  await issuer.close();
  return { label, outcomes, requests, after };
}
const stepped = (async () => {
  const results = [];
  for (const mode of MODES) results.push(await steppedOutage(mode));
  return results;
})();

// ---------------------------------------------------------------------------------------------
// 3: two rotations 2 s apart, on caches warm for more than 30 s.
const firstWarm = Math.min(...rotationTwice.map((r) => r.warmedAt));
await sleep(Math.max(0, firstWarm + ROTATE_AFTER_WARM_MS - performance.now()));
await Promise.all(
  rotationTwice.map(async (r) => {
    r.sinceWarmMs = performance.now() - r.warmedAt;
    r.issuer.resetCounts();
    const kid1 = r.issuer.rotate();
    const first = lookUntilFound(r.contender, r.instance, r.issuer, kid1);
    await sleep(2_000);
    const kid2 = r.issuer.rotate();
    const second = lookUntilFound(r.contender, r.instance, r.issuer, kid2);
    r.results = await Promise.all([first, second]);
    r.requests = r.issuer.jwksRequests;
    await r.issuer.close();
  }),
);
console.error('two rotations: done');
await Promise.all(rotationPollers);
console.error('rotation after flood: done');
const steppedResults = await stepped;
console.error('stepped outage: done');

// ---------------------------------------------------------------------------------------------
// 4: the outage in real time, every contender at once, each on its own issuer.
async function realOutage(contender, [label, mode, value]) {
  const issuer = await startJwksServer();
  const instance = contender.make(issuer);
  const known = issuer.kids[0];
  const warmed = await timedLookup(contender, instance, issuer, known);
  if (warmed.kind !== 'found') throw new Error(`${contender.name}: warm lookup gave ${JSON.stringify(warmed)}`);
  const t0 = performance.now();
  issuer.resetCounts();
  issuer.behave(mode, value);
  const inWindow = [];
  const past = [];
  let probe;
  for (let at = OUTAGE_TTL_MS + 100; at <= OUTAGE_END_MS; at += OUTAGE_EVERY_MS) {
    await sleep(Math.max(0, t0 + at - performance.now()));
    // Keep clear of the boundary: TTL + stale window (6 s) +- 100 ms.
    const edge = OUTAGE_TTL_MS + OUTAGE_STALE_MS;
    if (Math.abs(at - edge) < 150) continue;
    (at < edge ? inWindow : past).push(timedLookup(contender, instance, issuer, known, ANSWER_DEADLINE_MS));
    // A second lookup with the first one, given PROBE_DEADLINE_MS: how long a caller waits.
    probe ??= timedLookup(contender, instance, issuer, known, PROBE_DEADLINE_MS);
  }
  const requests = issuer.jwksRequests;
  const windowMs = performance.now() - t0 - OUTAGE_TTL_MS;
  const result = { contender, label, inWindow: await Promise.all(inWindow), past: await Promise.all(past), probe: await probe, requests, windowMs };
  await issuer.close();
  return result;
}
const outage = [];
for (const mode of MODES) {
  outage.push(await Promise.all(OUTAGE_CONTENDERS.map((c) => realOutage(c, mode))));
  console.error(`outage ${mode[0]}: done`);
}
load.push(loadavg()[0]);
const runSeconds = (performance.now() - started) / 1000;

// ---------------------------------------------------------------------------------------------
// Tables.
const lines = [];
const out = (...l) => lines.push(...l);
const knownCell = (samples) => {
  const answered = samples.filter(Number.isFinite);
  const failed = samples.length - answered.length;
  return `${ms(quantile(answered, 0.5))} / ${ms(quantile(answered, 0.99))}${failed ? ` (${failed} of ${samples.length} not answered)` : ''}`;
};

out(
  '## 1. Flood of unknown kids',
  '',
  `A warm cache (one fetch), then ${FLOOD} lookups of fresh random kids (\`junk-<uuid>\`), awaited one after another, and,`,
  `on another warm instance, all ${FLOOD} in flight at once; one lookup of a known kid every ${KNOWN_EVERY} flood lookups (100 samples).`,
  '',
  '| contender | sequential: JWKS requests | sequential: wall time | known kid during it, median / p99 ms | concurrent: JWKS requests | concurrent: wall time | known kid during it, median / p99 ms | what the flood lookups got (sequential; concurrent) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...floods.map(
    (f) =>
      `| ${f.contender.name} | ${f.seq.requests} | ${ms(f.seq.ms)} ms | ${knownCell(f.seq.known)} | ${f.conc.requests} | ${ms(f.conc.ms)} ms | ${knownCell(f.conc.known)}${f.conc.knownFailed ? ` [${f.conc.knownFailed}]` : ''} | ${f.seq.misses}; ${f.conc.misses} |`,
  ),
  '',
  'Each contender first runs a throwaway flood (200 sequential, 200 concurrent) on another instance, so that none is',
  'measured cold. JWKS requests: what the issuer saw during the flood (the warm fetch not counted). Wall time: from the',
  `first flood lookup to the last answer; in the concurrent flood a lookup not answered within ${FLOOD_DEADLINE_MS / 1000} s counts as "pending" and`,
  'is no longer waited for (requests it may still cause are not counted). Times under 100 ms here are mostly JIT warm-up',
  'and noise. Known kid: time from the call to the answer of a lookup of a kid in the cached set; in the concurrent flood',
  'it was made while the flood was in flight, so it includes waiting behind the flood on the event loop (about the time it',
  'takes to start the remaining lookups).',
  '"none": the library answered that there is no such key (null, `SigningKeyNotFoundError`, `JWK_NOT_FOUND`,',
  '`ERR_JWKS_NO_MATCHING_KEY`); anything else is the error it gave.',
  '',
);

const rotationCell = (r) =>
  r.lookups === null
    ? `not found after ${r.tried} lookups (${sec(r.ms)} s)`
    : `${r.lookups}${r.lookups === 1 ? ' (at once)' : ''}, after ${sec(r.ms)} s`;
out(
  '## 2. A rotation right after the flood',
  '',
  `Right after the sequential flood above, the issuer adds a new key (keeping the old ones); a lookup of the new kid is made`,
  `at once, then one every ${POLL_MS} ms (tokens naming the new key keep arriving) until it is found (given up after ${ROTATION_CAP_MS / 1000} s).`,
  '',
  'For jwks-cache the count is what the library decides and the time is just the spacing of the lookups; for jose and',
  "jwks-rsa's rate limit, the time is what their cooldown / rate-limit window sets, and the count is that time over the spacing.",
  '',
  '| contender | lookups of the new kid until found | JWKS requests until then | what the earlier lookups got |',
  '| --- | ---: | ---: | --- |',
  ...floods.map(
    (f) => `| ${f.contender.name} | ${rotationCell(f.rotation)} | ${f.rotation.requests} | ${tally(f.rotation.seen.slice(0, -1)) || '-'} |`,
  ),
  '',
);

out(
  '## 3. Two rotations 2 s apart',
  '',
  `Caches warmed at the start of the run; ${ROTATE_AFTER_WARM_MS / 1000} s or more later (past jose's 30 s cooldown) the issuer rotates (adds a key,`,
  `drops the oldest), and a lookup of the new kid is made at once (then every ${POLL_MS} ms until found); 2 s after the first rotation,`,
  'a second one, looked up the same way.',
  '',
  '| contender | first rotation: lookups until found | second rotation (2 s later): lookups until found | JWKS requests for both |',
  '| --- | ---: | ---: | ---: |',
  ...rotationTwice.map((r) => `| ${r.contender.name} | ${rotationCell(r.results[0])} | ${rotationCell(r.results[1])} | ${r.requests} |`),
  '',
);

const probeCell = (o) =>
  o.kind === 'pending' ? `no answer in ${PROBE_DEADLINE_MS / 1000} s` : `${o.kind === 'found' ? 'answered' : o.kind === 'error' ? o.detail : o.kind} after ${ms(o.ms)} ms`;
const pct = (part, all) => (all.length ? `${Math.round((100 * part.length) / all.length)}%` : '-');
out(
  '## 4. Outage after the TTL (real time)',
  '',
  `Each contender on its own issuer, all at once, with a TTL (cache age) of 1 s. The cache is warmed, the issuer starts`,
  `failing at once (it only matters once the TTL has passed), and from 1.1 s to ${sec(OUTAGE_END_MS)} s a lookup of the known kid is`,
  `made every ${OUTAGE_EVERY_MS} ms without waiting for the previous one. "Stale window": 1 s to 6 s after the warm fetch, where jwks-cache`,
  `(maxStaleMs 5 s) and jwks-rsa with cacheMaxAgeFallback 5 s may serve the old set; "past it": 6 s to ${sec(OUTAGE_END_MS)} s, where they`,
  `should fail closed (lookups within 150 ms of the 6 s edge are left out). A lookup not answered within ${ANSWER_DEADLINE_MS / 1000} s counts as`,
  'not answered ("pending").',
  '',
);
for (const results of outage) {
  out(
    `### Issuer answers ${results[0].label === '500' ? '500' : results[0].label === 'garbage' ? '200 with an HTML body (garbage)' : 'nothing (the request hangs)'}`,
    '',
    '| contender | stale window: answered | answered: median / p99 ms | what the others got | JWKS requests (per minute) | past it: answered | what they got, median ms | one lookup at 1.1 s, waited for up to 12 s |',
    '| --- | ---: | ---: | --- | ---: | ---: | --- | --- |',
    ...results.map((r) => {
      const found = r.inWindow.filter((o) => o.kind === 'found');
      const foundMs = found.map((o) => o.ms);
      const pastFound = r.past.filter((o) => o.kind === 'found');
      const pastOther = r.past.filter((o) => o.kind !== 'found');
      const perMinute = Math.round((r.requests / r.windowMs) * 60_000);
      return `| ${r.contender.name} | ${pct(found, r.inWindow)} | ${ms(quantile(foundMs, 0.5))} / ${ms(quantile(foundMs, 0.99))} | ${tally(r.inWindow.filter((o) => o.kind !== 'found')) || '-'} | ${r.requests} (${perMinute}) | ${pct(pastFound, r.past)} | ${tally(r.past.map((o) => (o.kind === 'found' ? { kind: 'answered' } : o))) || '-'}${pastOther.length ? `; ${ms(quantile(pastOther.map((o) => o.ms), 0.5))} ms` : ''} | ${probeCell(r.probe)} |`;
    }),
    '',
  );
}
out(
  'JWKS requests: what the issuer saw from the start of the outage to the last lookup (about 8 s, the first 1 s of it while',
  'the set was fresh); per minute: that count scaled to a minute, which overstates a backoff that is still growing (see the',
  'stepped-clock table below for jwks-cache over ten minutes). jwks-cache retries a 500 twice (3 requests per fetch); a timeout',
  'or garbage is not retried.',
  '',
  '### jwks-cache over a ten-minute outage (stepped clock)',
  '',
  'jwks-cache with `ttlMs` 60 s, `maxStaleMs` 10 min and a `now` option: after the warm fetch, the clock is stepped to the TTL,',
  'then by 10 s per lookup of the known kid for 10 minutes (60 lookups); between steps it stands still until the issuer has',
  'been quiet (so every refresh, and its retries in real time, ends at the clock time it started). Then one lookup at',
  'TTL + maxStaleMs + 1 min. For the hang, `timeoutMs` is 300 ms (real time) so that a hanging refresh ends between steps.',
  '',
  '| outage | lookups answered | median / p99 ms | JWKS requests in 10 min (per minute) | at TTL + maxStaleMs + 1 min |',
  '| --- | ---: | ---: | ---: | --- |',
  ...steppedResults.map((s) => {
    const found = s.outcomes.filter((o) => o.kind === 'found');
    return `| ${s.label} | ${pct(found, s.outcomes)} | ${ms(quantile(found.map((o) => o.ms), 0.5))} / ${ms(quantile(found.map((o) => o.ms), 0.99))} | ${s.requests} (${(s.requests / 10).toFixed(1)}) | ${s.after.kind === 'found' ? 'answered (did not fail closed)' : `fails closed: ${s.after.kind === 'error' ? s.after.detail : s.after.kind}, ${ms(s.after.ms)} ms`} |`;
  }),
  '',
);

const header = [
  `Node ${process.version}, ${cpus()[0].model.trim()} (${cpus().length} cores, shared), ${new Date().toISOString().slice(0, 10)}; \`node bench/resilience.js\`;`,
  `load average ${load[0].toFixed(2)} at start, ${load[1].toFixed(2)} at end; the run took ${runSeconds.toFixed(0)} s.`,
  '',
];
const report = [...header, ...lines].join('\n');
console.log(report);

// The tables go between the markers of resilience.md; the notes around them are kept.
const BEGIN = '<!-- written by bench/resilience.js: begin -->';
const END = '<!-- written by bench/resilience.js: end -->';
const mdPath = new URL('./resilience.md', import.meta.url);
const previous = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '';
const begin = previous.indexOf(BEGIN);
const end = previous.indexOf(END);
const [before, after] =
  begin >= 0 && end > begin ? [previous.slice(0, begin), previous.slice(end + END.length)] : ['# Resilience benchmark\n\n', '\n'];
writeFileSync(mdPath, `${before}${BEGIN}\n${report}\n${END}${after}`);
// Requests the libraries left hanging (jwks-rsa's 30 s timeout, get-jwks' none) were cut when
// their issuers closed; timers some libraries keep may still be pending.
process.exit(0);
