// The checks every server-side runtime must pass, as one plain script (no test runner) that Node,
// Deno and Bun all run as it is: it imports 'jwks-cache' by name, as an application does, so
// each runtime picks its entry by its own export conditions. tests/node/runtimes.test.js runs it
// in each and asserts what it prints; by hand:
//
//   node tests/runtimes/suite.js <jwksUri> <cases.json>
//   deno run --allow-net --allow-read --allow-env tests/runtimes/suite.js <jwksUri> <cases.json>
//   bun tests/runtimes/suite.js <jwksUri> <cases.json>
//
// <jwksUri> is the issuer's JWKS URL as the runner serves it (tests/support/jwks-server.js in
// 'respond' mode): the suite adds `t=<scenario>` to its query so that each scenario has a cache
// entry of its own, and asks `count=<scenario>` for how many requests the issuer got for one;
// `status=<code>` makes the issuer answer that status, `delay=<ms>` answer late. <cases.json> holds
// the JWKS and the tokens Node signed (tests/support/verify-cases.js): { jwks, options: { issuer,
// audience }, unreachableUri, cases: [{ alg, kid, sub, name, token, flipped: { first, middle, last } }],
// edge: [{ name, token, expect: 'verifies' | <error code> }] }.
//
// It prints one JSON line: { runtime, version, entry, checks: { <name>: { ok, ...observed } }, failures }
// and exits 1 when a check failed (2 when the suite itself could not run).

import { readFileSync } from 'node:fs';
import process from 'node:process';
import { createJwksCache, JwksCacheError, JwksArgumentError, JwksFetchError, JwtError } from 'jwks-cache';

const runtime = globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : 'node';
const version = globalThis.Deno ? globalThis.Deno.version.deno : globalThis.Bun ? globalThis.Bun.version : process.versions.node;
const args = globalThis.Deno ? globalThis.Deno.args : process.argv.slice(2);

const checks = {};
const failures = [];

function record(name, ok, observed = {}) {
  checks[name] = { ok, ...observed };
  if (!ok) failures.push(name);
}

/** Runs one check; anything it throws fails it with the error's name, code and message. */
async function check(name, body) {
  try {
    await body();
  } catch (error) {
    record(name, false, { threw: describe(error) });
  }
}

function describe(error) {
  if (error === null || typeof error !== 'object') return { value: String(error) };
  return { name: error.name, code: error.code, message: String(error.message).slice(0, 300) };
}

/** How a rejection looks: its class (by instanceof, not by name alone), code and name. */
async function rejection(promise) {
  try {
    const value = await promise;
    return { resolved: true, value: value === null ? null : typeof value };
  } catch (error) {
    const classes = [
      ['JwtError', JwtError],
      ['JwksFetchError', JwksFetchError],
      ['JwksArgumentError', JwksArgumentError],
      ['JwksCacheError', JwksCacheError],
    ];
    return {
      class: classes.find(([, Class]) => error instanceof Class)?.[0] ?? 'other',
      isJwksCacheError: error instanceof JwksCacheError,
      isError: error instanceof Error,
      name: error?.name,
      code: error?.code,
      status: error?.status,
      message: String(error?.message).slice(0, 200),
    };
  }
}

const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function uriFor(base, scenario, extra = {}) {
  const url = new URL(base);
  url.searchParams.set('t', scenario);
  for (const [name, value] of Object.entries(extra)) url.searchParams.set(name, String(value));
  return url.href;
}

/** How many JWKS requests the issuer got for one scenario (the count request is not counted). */
async function issuerCount(base, scenario) {
  const url = new URL(base);
  url.searchParams.set('count', scenario);
  const response = await fetch(url);
  return (await response.json()).requests;
}

async function main() {
  const [base, casesFile] = args;
  if (!base || !casesFile) throw new Error('usage: suite.js <jwksUri> <cases.json>');
  const data = JSON.parse(readFileSync(casesFile, 'utf8'));
  const servedByKid = new Map(data.jwks.map((jwk) => [jwk.kid, jwk]));

  // getKey: the served JWK, exactly; null for a kid the set does not hold.
  await check('getKey', async () => {
    const cache = createJwksCache();
    const uri = uriFor(base, 'keys');
    const kids = [...servedByKid.keys()];
    const got = await Promise.all(kids.map((kid) => cache.getKey(uri, kid)));
    const mismatched = kids.filter((kid, at) => !sameJson(got[at], servedByKid.get(kid)));
    const frozen = got.every((jwk) => jwk !== null && Object.isFrozen(jwk));
    const unknown = await cache.getKey(uri, 'no-such-kid');
    record('getKey', mismatched.length === 0 && frozen && unknown === null, {
      kids: kids.length,
      mismatched,
      frozen,
      unknown,
      requests: await issuerCount(base, 'keys'),
    });
  });

  // 50 concurrent lookups on a cold cache share one request (the issuer answers after 200 ms,
  // so that they really wait on a fetch in flight).
  await check('herd', async () => {
    const cache = createJwksCache();
    const uri = uriFor(base, 'herd', { delay: 200 });
    const kid = data.cases[0].kid;
    const got = await Promise.all(Array.from({ length: 50 }, () => cache.getKey(uri, kid)));
    const served = got.filter((jwk) => sameJson(jwk, servedByKid.get(kid))).length;
    const requests = await issuerCount(base, 'herd');
    record('herd', served === 50 && requests === 1, { calls: 50, served, requests });
  });

  // Errors keep their class and code, whatever the runtime's fetch throws.
  const errorCases = [
    ['unreachable', () => createJwksCache({ maxRetries: 0 }).getKey(data.unreachableUri, 'a'), 'JwksFetchError', 'ERR_JWKS_NETWORK'],
    ['status500', () => createJwksCache({ maxRetries: 0 }).getKey(uriFor(base, 'status500', { status: 500 }), 'a'), 'JwksFetchError', 'ERR_JWKS_HTTP_STATUS', 500],
    // A redirect is never followed (redirect: 'manual' must give the 3xx back in each runtime).
    ['redirect', () => createJwksCache({ maxRetries: 0 }).getKey(uriFor(base, 'redirect', { status: 302 }), 'a'), 'JwksFetchError', 'ERR_JWKS_REDIRECT'],
    ['badKid', () => createJwksCache().getKey(uriFor(base, 'badKid'), 'k'.repeat(1025)), 'JwksArgumentError', 'ERR_KID_INVALID'],
    ['kidNotString', () => createJwksCache().getKey(uriFor(base, 'badKid'), 7), 'JwksArgumentError', 'ERR_KID_INVALID'],
  ];
  for (const [name, call, wantClass, wantCode, wantStatus] of errorCases) {
    await check(`error.${name}`, async () => {
      const got = await rejection(call());
      const ok = got.class === wantClass && got.name === wantClass && got.isJwksCacheError && got.isError && got.code === wantCode && (wantStatus === undefined || got.status === wantStatus);
      record(`error.${name}`, ok, got);
    });
  }

  // verify: a valid token of each algorithm verifies; one with a signature byte flipped (first,
  // middle, last) is ERR_JWS_SIGNATURE_INVALID; then the edge cases, on the same cached set.
  const cache = createJwksCache();
  const verifyUri = uriFor(base, 'verify');
  const options = { jwksUri: verifyUri, ...data.options };
  for (const c of data.cases) {
    await check(`verify.${c.alg}`, async () => {
      const { payload, protectedHeader, key } = await cache.verify(c.token, options);
      const valid = payload.sub === c.sub && payload.name === c.name && protectedHeader.alg === c.alg && key.kid === c.kid;
      const tampered = {};
      for (const [position, token] of Object.entries(c.flipped)) {
        const got = await rejection(cache.verify(token, options));
        tampered[position] = got.class === 'JwtError' && got.code === 'ERR_JWS_SIGNATURE_INVALID' ? 'ERR_JWS_SIGNATURE_INVALID' : got;
      }
      const ok = valid && Object.values(tampered).every((result) => result === 'ERR_JWS_SIGNATURE_INVALID');
      record(`verify.${c.alg}`, ok, { valid, tampered });
    });
  }
  // The signature checks the core cannot decide, left to the runtime's crypto: each token
  // (made in Node, with what Node answers) must get the same answer here. A PSS salt other than
  // the digest's length, ECDSA r = s = 0 and r = s = n, Ed25519 S + L never verify; ECDSA high-S
  // does (JWS has no low-S rule); a key whose EC point is off its curve is refused at import.
  for (const edge of data.edge) {
    await check(`edge.${edge.name}`, async () => {
      let got;
      try {
        await cache.verify(edge.token, options);
        got = 'verifies';
      } catch (error) {
        got = error instanceof JwtError ? error.code : describe(error);
      }
      record(`edge.${edge.name}`, got === edge.expect, { got });
    });
  }

  // One set: the first token fetches it, every other one is answered from the cache.
  await check('verifyRequests', async () => {
    const requests = await issuerCount(base, 'verify');
    record('verifyRequests', requests === 1, { requests });
  });
}

let entry;
try {
  entry = import.meta.resolve('jwks-cache');
} catch (error) {
  entry = `unresolved: ${error?.message}`;
}

try {
  await main();
  console.log(JSON.stringify({ runtime, version, entry, checks, failures }));
  process.exitCode = failures.length === 0 ? 0 : 1;
} catch (error) {
  console.log(JSON.stringify({ runtime, version, entry, checks, failures, crashed: describe(error) }));
  process.exitCode = 2;
}
