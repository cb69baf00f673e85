// jwks-cache in Debian's Chromium, driven by playwright-core. A page served by one issuer server
// (the page origin, which also serves pkg/) imports the package by its bare name through an import
// map, and reads the JWKS of a second issuer on another port: a cross-origin fetch, so CORS is
// really in play. A third server, which sends no CORS headers, is the control that shows it is.
//
//   node --test tests/browser/
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { startJwksServer, makePublicJwk, JWKS_PATH } from '../support/jwks-server.js';
import { ROOMY_JWKS, HUNGRY_JWKS } from '../support/wasm-trap.js';
import { ALGORITHMS, FLIP_POSITIONS, makeVerifySuite } from '../support/verify-cases.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const pkgDir = fileURLToPath(new URL('../../pkg/', import.meta.url));
const supportDir = fileURLToPath(new URL('../support/', import.meta.url));
const TEST = { timeout: 20_000 };

let site; // the page origin: serves the page and pkg/
let issuer; // another origin, whose JWKS the page reads
let noCors; // a JWKS endpoint without CORS headers
let browser;
let page;
/** Keys of every algorithm and tokens signed with them in Node (tests/support/verify-cases.js). */
let suite;

/** Console errors and warnings, page errors and crashes, as { kind, text, url }. */
const problems = [];
/** Problems a test provokes on purpose: { text: RegExp, url?: string }. */
const tolerated = [];
/** Every request the page made: playwright Request objects. */
const pageRequests = [];

/** The suite runs against the built package: say so plainly when it is not there. */
function assertPackageBuilt() {
  const missing = ['browser.js', 'api.js', 'cache.js', 'wasm/jwks_cache.js', 'wasm/jwks_cache_bg.wasm'].filter((f) => !existsSync(pkgDir + f));
  if (missing.length) throw new Error(`pkg/ is not built (missing ${missing.join(', ')}): run scripts/build-package.sh`);
}

/** A JWKS endpoint that answers like the issuer but sends no CORS headers. */
async function startNoCorsServer(keys) {
  let count = 0;
  const server = http.createServer((req, res) => {
    count += 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    jwksUri: origin + JWKS_PATH,
    get requests() {
      return count;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Polls until `check()` is truthy, at most `ms`. */
async function eventually(check, ms = 3_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** Adds the page's console errors and warnings, page errors and crashes to `problems`. */
function collectProblems(p) {
  p.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push({ kind: `console.${message.type()}`, text: message.text(), url: message.location().url });
    }
  });
  p.on('pageerror', (error) => problems.push({ kind: 'pageerror', text: String(error?.stack ?? error), url: p.url() }));
  p.on('crash', () => problems.push({ kind: 'crash', text: 'the page crashed', url: p.url() }));
}

/** Opens the test page in `p` and waits for its harness. */
async function openHarness(p) {
  await p.goto(`${site.origin}/page/index.html`);
  await p.waitForFunction(() => window.jwksHarnessReady === true, null, { timeout: 15_000 }).catch((error) => {
    throw new Error(`the page did not get ready: ${error.message}\n${JSON.stringify(problems, null, 2)}`);
  });
}

before(
  async () => {
    assertPackageBuilt();
    suite = makeVerifySuite();
    site = await startJwksServer({ files: { '/pkg/': pkgDir, '/page/': here, '/support/': supportDir } });
    issuer = await startJwksServer();
    noCors = await startNoCorsServer([makePublicJwk('EC', 'no-cors-1')]);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      // launch() gives the browser a fresh temporary profile of its own.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
    page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    collectProblems(page);
    page.on('request', (request) => pageRequests.push(request));
    // Sees how the wasm gets compiled: by streaming (as browser.js intends), or by wasm-bindgen's
    // slower fallback, taken when the response is not served as application/wasm.
    await page.addInitScript(() => {
      const loads = { streaming: [], instantiate: 0 };
      window.wasmLoads = loads;
      const { instantiateStreaming, instantiate } = WebAssembly;
      WebAssembly.instantiateStreaming = function (source, imports) {
        const entry = { url: null, contentType: null, outcome: 'pending' };
        loads.streaming.push(entry);
        Promise.resolve(source).then(
          (response) => {
            entry.url = response.url;
            entry.contentType = response.headers.get('content-type');
          },
          () => {},
        );
        return instantiateStreaming.call(this, source, imports).then(
          (result) => ((entry.outcome = 'ok'), result),
          (error) => {
            entry.outcome = String(error);
            throw error;
          },
        );
      };
      WebAssembly.instantiate = function (...args) {
        loads.instantiate += 1;
        return instantiate.apply(this, args);
      };
    });
    await openHarness(page);
  },
  { timeout: 120_000 },
);

after(async () => {
  await browser?.close();
  await Promise.all([site?.close(), issuer?.close(), noCors?.close()]);
});

beforeEach(() => {
  issuer.behave('ok');
  // Real public keys of three types; one with a nested member, to see that freezing is deep.
  issuer.setKeys([makePublicJwk('EC', 'ec-1'), makePublicJwk('OKP', 'ed-1'), { ...makePublicJwk('EC', 'ec-ops'), key_ops: ['verify'] }]);
  issuer.resetCounts();
});

// No retries unless a test asks: the tests count one request per failure (retries are tested in
// Node, tests/node/resilience.test.js, and in workerd).
const createCache = (options = {}) => page.evaluate((o) => window.jwksHarness.create(o), { maxRetries: 0, ...options });
const getKeys = (id, calls) => page.evaluate(([i, c]) => window.jwksHarness.getKeys(i, c), [id, calls]);
const getKey = async (id, uri, kid) => (await getKeys(id, [[uri, kid]]))[0];
const jwksRequestsTo = (origin) => pageRequests.filter((r) => r.url().startsWith(origin) && new URL(r.url()).pathname === JWKS_PATH);

/** What an error must look like on the page side: a real Error of its class and its parents. */
function assertError(outcome, { name, code, message, status, classes }) {
  assert.ok(outcome.error, `expected an error, got ${JSON.stringify(outcome)}`);
  const { error } = outcome;
  assert.equal(error.isError, true, 'an Error instance');
  assert.equal(error.name, name);
  assert.equal(error.constructorName, name);
  assert.equal(error.code, code);
  if (message instanceof RegExp) assert.match(error.message, message);
  else assert.equal(error.message, message);
  assert.equal(error.status, status);
  assert.deepEqual(error.classes, classes);
}

test('the collectors see console warnings and page errors (so that the last test can fail)', TEST, async () => {
  await page.evaluate(() => {
    console.warn('collector probe: warning');
    setTimeout(() => {
      throw new Error('collector probe: page error');
    });
  });
  const isProbe = (p) => p.text.includes('collector probe:');
  assert.ok(await eventually(() => problems.filter(isProbe).length === 2), JSON.stringify(problems));
  assert.deepEqual(problems.filter(isProbe).map((p) => p.kind).sort(), ['console.warning', 'pageerror']);
  problems.splice(0, problems.length, ...problems.filter((p) => !isProbe(p)));
});

test('the page imports the package by its bare name, and compiles the wasm by streaming', TEST, async () => {
  const harness = await page.evaluate(() => ({ exports: window.jwksHarness.exports, secure: window.isSecureContext, origin: location.origin }));
  assert.deepEqual(harness.exports, ['JwksArgumentError', 'JwksCache', 'JwksCacheError', 'JwksFetchError', 'JwksResponseError', 'JwtError', 'createJwksCache', 'decodeJwt', 'describeKeySet', 'explainError', 'inspectToken', 'loadKeySet', 'matchKey', 'memoryStore', 'verifyToken']);
  assert.equal(harness.secure, true);
  assert.equal(harness.origin, site.origin);
  assert.notEqual(site.origin, issuer.origin, 'the issuer is another origin');

  assert.equal(site.requestsTo('/pkg/browser.js'), 1, 'the import map resolved the bare name');
  assert.equal(site.requestsTo('/pkg/wasm/jwks_cache_bg.wasm'), 1);
  const loads = await page.evaluate(() => window.wasmLoads);
  assert.deepEqual(loads, {
    streaming: [{ url: `${site.origin}/pkg/wasm/jwks_cache_bg.wasm`, contentType: 'application/wasm', outcome: 'ok' }],
    instantiate: 0, // wasm-bindgen's fallback was not taken
  });
});

test('getKey returns exactly the served JWK, deeply frozen; an unknown kid refetches once, then null', TEST, async () => {
  const cache = await createCache();
  const answers = await getKeys(cache, issuer.kids.map((kid) => [issuer.jwksUri, kid]));
  assert.equal(issuer.jwksRequests, 1);
  assert.equal(answers.length, 3);
  answers.forEach((answer, i) => {
    assert.deepEqual(answer.jwk, issuer.keys[i]);
    assert.equal(answer.frozen, true);
    assert.equal(answer.deeplyFrozen, true);
    assert.equal(answer.mutationThrows, true);
  });
  assert.deepEqual(answers[2].jwk.key_ops, ['verify']);

  // Fresh hits: no request, and every caller gets the same object.
  const hits = await getKeys(cache, [[issuer.jwksUri, 'ec-1'], [issuer.jwksUri, 'ec-1']]);
  assert.deepEqual(hits[0].jwk, issuer.keys[0]);
  assert.equal(hits[1].sameObjectAsFirst, true);
  assert.equal(issuer.jwksRequests, 1);

  const unknown = await getKey(cache, issuer.jwksUri, 'no-such-kid');
  assert.equal(unknown.isNull, true, JSON.stringify(unknown));
  assert.equal(unknown.jwk, null);
  assert.equal(issuer.jwksRequests, 2, 'exactly one refetch for the unknown kid');
});

test('the JWKS is read cross-origin through CORS; without CORS headers it is a network error', TEST, async () => {
  const before = pageRequests.length;
  const cache = await createCache();
  assert.deepEqual((await getKey(cache, issuer.jwksUri, 'ec-1')).jwk, issuer.keys[0]);

  const sent = jwksRequestsTo(issuer.origin).filter((r) => pageRequests.indexOf(r) >= before);
  assert.equal(sent.length, 1);
  assert.equal(sent[0].method(), 'GET');
  assert.equal(sent[0].resourceType(), 'fetch');
  assert.equal(await sent[0].headerValue('origin'), site.origin, 'a CORS request from the page origin');
  const response = await sent[0].response();
  assert.equal(response.status(), 200);
  assert.equal(await response.headerValue('access-control-allow-origin'), '*');
  assert.equal(issuer.requestsTo(JWKS_PATH), issuer.jwksRequests, 'a simple request: no preflight');

  // The control: the same answer without Access-Control-Allow-Origin is withheld from the page.
  tolerated.push(
    { text: new RegExp(`^Access to fetch at '${noCors.jwksUri}' from origin '${site.origin}' has been blocked by CORS policy`) },
    { text: /^Failed to load resource: net::ERR_FAILED$/, url: noCors.jwksUri },
  );
  const blocked = await getKey(cache, noCors.jwksUri, 'no-cors-1');
  assertError(blocked, {
    name: 'JwksFetchError',
    code: 'ERR_JWKS_NETWORK',
    message: /^Failed to fetch JWKS \(network error: .+\)$/,
    status: undefined,
    classes: ['JwksCacheError', 'JwksFetchError'],
  });
  assert.equal(noCors.requests, 1, 'the request was sent; CORS kept its answer from the page');
});

test('100 concurrent getKey calls on a cold cache make exactly 1 JWKS request', TEST, async () => {
  const cache = await createCache();
  const answers = await getKeys(cache, Array.from({ length: 100 }, () => [issuer.jwksUri, 'ec-1']));
  assert.equal(issuer.jwksRequests, 1);
  assert.equal(issuer.requestsTo(JWKS_PATH), 1, 'no preflight either');
  assert.equal(answers.length, 100);
  for (const answer of answers) {
    assert.deepEqual(answer.jwk, issuer.keys[0]);
    assert.equal(answer.sameObjectAsFirst, true);
  }

  // 100 concurrent calls for kids the fresh set lacks share one refetch too.
  issuer.behave('slow', 100);
  const misses = await getKeys(cache, Array.from({ length: 100 }, (_, i) => [issuer.jwksUri, `missing-${i % 7}`]));
  assert.ok(misses.every((m) => m.isNull === true), JSON.stringify(misses.find((m) => m.isNull !== true)));
  assert.equal(issuer.jwksRequests, 2);
});

test('rotation: a new kid is picked up on the first lookup that names it', TEST, async () => {
  const cache = await createCache({ ttlMs: 600_000 });
  const dropped = issuer.kids[0];
  await getKey(cache, issuer.jwksUri, dropped);
  assert.equal(issuer.jwksRequests, 1);

  // The issuer answers with Cache-Control: max-age=600; the refetch must still reach it.
  const rotated = issuer.rotate();
  const fresh = await getKey(cache, issuer.jwksUri, rotated);
  assert.equal(fresh.jwk?.kid, rotated);
  assert.deepEqual(fresh.jwk, issuer.keys.at(-1));
  assert.equal(fresh.frozen, true);
  assert.equal(issuer.jwksRequests, 2);

  assert.equal((await getKey(cache, issuer.jwksUri, dropped)).isNull, true, 'the dropped key is gone after a refetch');
  assert.equal(issuer.jwksRequests, 3);
});

test("a URI fetch cannot parse, naming 'cache', is ERR_JWKS_URI_INVALID with no fetch; a rotated key still comes from the issuer", TEST, async () => {
  const fetchesBefore = (await page.evaluate(() => window.jwksHarness.fetches())).length;
  const cache = await createCache({ ttlMs: 600_000 });
  const refused = await getKey(cache, "http://a:b:c/'cache'", 'ec-1');
  assertError(refused, {
    name: 'JwksArgumentError',
    code: 'ERR_JWKS_URI_INVALID',
    message: /^JWKS URI invalid: /,
    status: undefined,
    classes: ['JwksCacheError', 'JwksArgumentError'],
  });
  assert.equal((await page.evaluate(() => window.jwksHarness.fetches())).length, fetchesBefore, 'fetch was not called');

  await assertRotationReachesIssuer(cache);
  const sent = (await page.evaluate(() => window.jwksHarness.fetches())).slice(fetchesBefore);
  assert.deepEqual(sent, [
    { url: issuer.jwksUri, cache: 'no-store' },
    { url: issuer.jwksUri, cache: 'no-store' },
  ]);
});

test("a URI with credentials, naming 'cache', is refused by the cache without quoting them; no-store stays on", TEST, async () => {
  // Chromium's fetch would refuse it too, quoting the whole URL (credentials and 'cache' included)
  // in "Request cannot be constructed from a URL that includes credentials: <url>".
  const withCredentials = `${issuer.origin.replace('http://', 'http://user:secret@')}/'cache'`;
  const requestsBefore = pageRequests.length;
  const cache = await createCache({ ttlMs: 600_000 });
  const refused = await getKey(cache, withCredentials, 'ec-1');
  assertError(refused, {
    name: 'JwksArgumentError',
    code: 'ERR_JWKS_URI_INVALID',
    message: /^JWKS URI invalid: it has credentials/,
    status: undefined,
    classes: ['JwksCacheError', 'JwksArgumentError'],
  });
  assert.ok(!refused.error.message.includes('secret'), refused.error.message);
  assert.deepEqual(pageRequests.slice(requestsBefore).map((r) => r.url()), [], 'no request was sent');

  await assertRotationReachesIssuer(cache);
});

/**
 * The issuer answers with Cache-Control: max-age=600. Without `cache: 'no-store'` the browser
 * would store the first answer and give it back for the refetch, which lacks the new key.
 */
async function assertRotationReachesIssuer(cache) {
  const requestsBefore = issuer.jwksRequests;
  assert.deepEqual((await getKey(cache, issuer.jwksUri, issuer.kids[0])).jwk, issuer.keys[0]);
  const rotated = issuer.rotate();
  const fresh = await getKey(cache, issuer.jwksUri, rotated);
  assert.equal(fresh.jwk?.kid, rotated, `the refetch got the rotated set: ${JSON.stringify(fresh)}`);
  assert.equal(issuer.jwksRequests, requestsBefore + 2, 'both fetches reached the issuer');
}

test('argument errors reject with their class, code and message, before any request', TEST, async () => {
  const cache = await createCache();
  const [noUri, nullUri, emptyUri, noKid, emptyKid] = await getKeys(cache, [
    [null, 'ec-1'], // undefined in the page
    [null, null],
    ['', 'ec-1'],
    [issuer.jwksUri, null],
    [issuer.jwksUri, ''],
  ]);
  for (const outcome of [noUri, nullUri, emptyUri]) {
    assertError(outcome, {
      name: 'JwksArgumentError',
      code: 'ERR_JWKS_URI_MISSING',
      message: 'JWKS URI missing',
      status: undefined,
      classes: ['JwksCacheError', 'JwksArgumentError'],
    });
  }
  for (const outcome of [noKid, emptyKid]) {
    assertError(outcome, {
      name: 'JwksArgumentError',
      code: 'ERR_KID_MISSING',
      message: 'Token missing key id',
      status: undefined,
      classes: ['JwksCacheError', 'JwksArgumentError'],
    });
  }
  assert.equal(issuer.jwksRequests, 0);
});

test('an HTTP 500 and a garbage body become JwksFetchError (status 500) and ERR_JWKS_INVALID_JSON', TEST, async () => {
  tolerated.push({ text: /^Failed to load resource: the server responded with a status of 500 /, url: issuer.jwksUri });
  issuer.behave('status', 500);
  const failed = await getKey(await createCache(), issuer.jwksUri, 'ec-1');
  assertError(failed, {
    name: 'JwksFetchError',
    code: 'ERR_JWKS_HTTP_STATUS',
    message: 'Failed to fetch JWKS (500)',
    status: 500,
    classes: ['JwksCacheError', 'JwksFetchError'],
  });

  issuer.behave('garbage');
  const garbage = await getKey(await createCache(), issuer.jwksUri, 'ec-1');
  assertError(garbage, {
    name: 'JwksResponseError',
    code: 'ERR_JWKS_INVALID_JSON',
    message: /^JWKS response is not valid JSON: /,
    status: undefined,
    classes: ['JwksCacheError', 'JwksResponseError'],
  });
  assert.equal(issuer.jwksRequests, 2);
});

test('B5: a redirect from the JWKS endpoint is ERR_JWKS_REDIRECT (the browser hides its status), and its target is never requested', TEST, async () => {
  issuer.behave('respond', (req, res) => res.writeHead(302, { location: `${issuer.origin}/elsewhere/jwks.json`, 'access-control-allow-origin': '*' }).end());
  const failed = await getKey(await createCache(), issuer.jwksUri, 'ec-1');
  assertError(failed, {
    name: 'JwksFetchError',
    code: 'ERR_JWKS_REDIRECT',
    message: 'Failed to fetch JWKS (a redirect, not followed: configure the URI it points to)',
    status: undefined,
    classes: ['JwksCacheError', 'JwksFetchError'],
  });
  assert.equal(issuer.requestsTo('/elsewhere/jwks.json'), 0);
});

test('a good cached set survives failed refreshes (500, garbage)', TEST, async () => {
  tolerated.push({ text: /^Failed to load resource: the server responded with a status of 500 /, url: issuer.jwksUri });
  const cache = await createCache();
  const good = issuer.keys[0];
  assert.deepEqual((await getKey(cache, issuer.jwksUri, good.kid)).jwk, good);

  // A miss refetches; the refetch fails. The callers of the miss share it and get the error;
  // the callers of a cached kid are answered from the set.
  issuer.behave('status', 500);
  const during500 = await getKeys(cache, [
    [issuer.jwksUri, 'rotated-1'],
    [issuer.jwksUri, good.kid],
    [issuer.jwksUri, 'rotated-1'],
  ]);
  for (const outcome of [during500[0], during500[2]]) {
    assertError(outcome, {
      name: 'JwksFetchError',
      code: 'ERR_JWKS_HTTP_STATUS',
      message: 'Failed to fetch JWKS (500)',
      status: 500,
      classes: ['JwksCacheError', 'JwksFetchError'],
    });
  }
  assert.deepEqual(during500[1].jwk, good);
  assert.equal(issuer.jwksRequests, 2);
  assert.deepEqual((await getKey(cache, issuer.jwksUri, good.kid)).jwk, good);

  // While that failure backs off, another miss is answered from the set without a request.
  assert.equal((await getKey(cache, issuer.jwksUri, 'rotated-2')).jwk, null);
  assert.equal(issuer.jwksRequests, 2);

  // A garbage refresh (of another cache) is an error for the miss, and the set stays.
  issuer.behave('ok');
  const second = await createCache();
  assert.deepEqual((await getKey(second, issuer.jwksUri, good.kid)).jwk, good);
  issuer.behave('garbage');
  assert.equal((await getKey(second, issuer.jwksUri, 'rotated-1')).error?.code, 'ERR_JWKS_INVALID_JSON');
  assert.equal(issuer.jwksRequests, 4);
  assert.deepEqual((await getKey(second, issuer.jwksUri, good.kid)).jwk, good);
  assert.equal(issuer.jwksRequests, 4, 'answered from the cached set');

  // The issuer recovers and rotates: a cache whose refetch window is not spent picks the new
  // key up at once; the old one stays.
  issuer.behave('ok');
  const third = await createCache();
  assert.deepEqual((await getKey(third, issuer.jwksUri, good.kid)).jwk, good);
  const rotated = issuer.rotate({ keepOld: true });
  assert.deepEqual((await getKey(third, issuer.jwksUri, rotated)).jwk, issuer.keys.at(-1));
  assert.deepEqual((await getKey(third, issuer.jwksUri, good.kid)).jwk, good);
  assert.equal(issuer.jwksRequests, 6);
});

test('an issuer that never answers is ERR_JWKS_TIMEOUT after timeoutMs', TEST, async () => {
  issuer.behave('hang');
  const cache = await createCache({ timeoutMs: 300 });
  const started = Date.now();
  const outcome = await getKey(cache, issuer.jwksUri, 'ec-1');
  const elapsed = Date.now() - started;
  assertError(outcome, {
    name: 'JwksFetchError',
    code: 'ERR_JWKS_TIMEOUT',
    message: 'Failed to fetch JWKS (no response within 300 ms)',
    status: undefined,
    classes: ['JwksCacheError', 'JwksFetchError'],
  });
  assert.ok(elapsed >= 250 && elapsed < 5_000, `answered after ${elapsed} ms`);
  assert.equal(issuer.jwksRequests, 1);
});

test('clear() forgets the cached sets', TEST, async () => {
  const cache = await createCache();
  await getKey(cache, issuer.jwksUri, 'ec-1');
  await page.evaluate((id) => window.jwksHarness.clear(id), cache);
  assert.deepEqual((await getKey(cache, issuer.jwksUri, 'ec-1')).jwk, issuer.keys[0]);
  assert.equal(issuer.jwksRequests, 2);
});

// A real trap: see tests/support/wasm-trap.js.

test('a trap in the wasm core (memory exhausted) fails every call on its fetches with ERR_JWKS_CORE_FAILURE; the same cache then works again', { timeout: 60_000 }, async (t) => {
  // A page of its own (in a context of its own): its wasm memory stays grown to the limit.
  const context = await browser.newContext();
  const held = [];
  try {
    const trapPage = await context.newPage();
    trapPage.setDefaultTimeout(20_000);
    collectProblems(trapPage);
    await openHarness(trapPage);
    const harness = (fn, arg) => trapPage.evaluate(fn, arg);
    const getKeysHere = (id, calls) => harness(([i, c]) => window.jwksHarness.getKeys(i, c), [id, calls]);
    const cache = await harness(() => window.jwksHarness.create({}));

    issuer.behave('body', ROOMY_JWKS);
    assert.equal((await getKeysHere(cache, [[issuer.jwksUri, 'ec-1']]))[0].isNull, true);
    const { pagesBefore, pagesAfter } = await harness(() => window.jwksHarness.exhaustMemory());
    t.diagnostic(`wasm memory grown from ${pagesBefore} to ${pagesAfter} pages (${pagesAfter / 16_384} GiB)`);
    assert.ok(pagesAfter > pagesBefore, 'the memory grew');

    // Bystanders: two calls for another URI, one fetching (the issuer holds its answer) and one
    // waiting on that fetch. Then three calls for the issuer's URI, whose set traps the core.
    issuer.behave('respond', (req, res) => {
      if (req.url.includes('bystander')) held.push(res);
      // A moment late, so that all three calls have joined the one fetch.
      else setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(HUNGRY_JWKS), 200);
    });
    const bystanders = await harness(([i, uri]) => window.jwksHarness.start(i, [[uri, 'ec-1'], [uri, 'ec-1']]), [cache, `${issuer.jwksUri}?bystander`]);
    assert.ok(await eventually(() => held.length === 1), "the bystanders' fetch reached the issuer");
    const CORE_FAILURE = {
      name: 'JwksCacheError',
      code: 'ERR_JWKS_CORE_FAILURE',
      message: /^JWKS cache core failed and was restarted empty: /,
      status: undefined,
      classes: ['JwksCacheError'],
    };
    const trapped = await getKeysHere(cache, Array.from({ length: 3 }, () => [issuer.jwksUri, 'ec-1']));
    for (const outcome of trapped) {
      assertError(outcome, CORE_FAILURE);
      assert.equal(outcome.error.wasmTrap, true, `the cause is the trap itself: ${outcome.error.message}`);
    }
    held.shift().writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: issuer.keys }));
    for (const outcome of await harness((b) => window.jwksHarness.outcomes(b), bystanders)) {
      assertError(outcome, CORE_FAILURE);
    }
    assert.equal(issuer.jwksRequests, 3, 'one fetch for ROOMY, one for the bystanders, one for the three trapped calls');

    // The same cache object goes on, with a fresh and empty core.
    issuer.behave('ok');
    const [after] = await getKeysHere(cache, [[issuer.jwksUri, 'ec-1']]);
    assert.deepEqual(after.jwk, issuer.keys[0], JSON.stringify(after.error));
    assert.equal(issuer.jwksRequests, 4, 'nothing of the failed core was kept');
    assert.deepEqual(await harness((i) => window.jwksHarness.clear(i), cache), { threw: null }, 'clear() does not throw');
    assert.deepEqual((await getKeysHere(cache, [[issuer.jwksUri, 'ed-1']]))[0].jwk, issuer.keys[1]);
    assert.equal(issuer.jwksRequests, 5, 'clear() forgot the set');

    // So does a cache created after the trap.
    const another = await harness(() => window.jwksHarness.create({}));
    assert.deepEqual((await getKeysHere(another, [[issuer.jwksUri, 'ec-1']]))[0].jwk, issuer.keys[0]);
  } finally {
    for (const res of held) res.destroy();
    await context.close();
  }
});

// ---- verify: tokens signed in Node by the test's keys, checked with Chromium's crypto.subtle ----

/** [token, options] calls of `verify` on cache `id` ('verifyToken': the package's shared cache), all at once. */
const verifyAll = (id, calls) => page.evaluate(([i, c]) => window.jwksHarness.verify(i, c), [id, calls]);
const verifyOne = async (id, token, options) => (await verifyAll(id, [[token, options]]))[0];
const cryptoCalls = () => page.evaluate(() => window.jwksHarness.cryptoCalls());

/** The calls of crypto.subtle's since `before` (a cryptoCalls() reading). */
async function cryptoCallsSince(before) {
  const now = await cryptoCalls();
  return { importKey: now.importKey - before.importKey, verify: now.verify - before.verify };
}

function assertVerified(answer, expected, label = '') {
  assert.equal(answer.error, undefined, `${label} ${JSON.stringify(answer.error)}`);
  assert.equal(answer.syncThrow, undefined, `${label} ${JSON.stringify(answer.syncThrow)}`);
  assert.deepEqual(answer.payload, expected.valid.claims, `${label} payload`);
  assert.deepEqual(answer.protectedHeader, expected.valid.header, `${label} protectedHeader`);
  assert.deepEqual(answer.key, expected.jwk, `${label} key`);
  assert.equal(answer.keyFrozen, true, `${label} key frozen`);
}

function assertTokenRefused(answer, code, message) {
  assertError(answer, { name: 'JwtError', code, message, status: undefined, classes: ['JwksCacheError', 'JwtError'] });
}

for (const alg of ALGORITHMS) {
  test(`verify ${alg} in Chromium: a valid token verifies (also repeated, from the verified-token cache; a wrong audience on the repeat is refused), a flipped signature byte is ERR_JWS_SIGNATURE_INVALID, an expired token ERR_JWT_EXPIRED`, TEST, async () => {
    issuer.setKeys(suite.jwks);
    const c = suite.byAlg[alg];
    const options = suite.options(issuer.jwksUri);
    const cache = await createCache();
    const before = await cryptoCalls();

    assertVerified(await verifyOne(cache, c.valid.token, options), c, 'first');
    assert.deepEqual(await cryptoCallsSince(before), { importKey: 1, verify: 1 }, 'one import, one signature check');

    // The same token again: remembered, so no signature check; its claims are still checked
    // against each call's options.
    assertVerified(await verifyOne(cache, c.valid.token, options), c, 'repeat');
    assert.deepEqual(await cryptoCallsSince(before), { importKey: 1, verify: 1 }, 'the repeat was answered from the verified-token cache');
    assertTokenRefused(
      await verifyOne(cache, c.valid.token, { ...options, audience: 'api://someone-else' }),
      'ERR_JWT_CLAIM_INVALID',
      'JWT claim invalid: "aud" names none of the accepted audiences',
    );
    assertVerified(await verifyOne(cache, c.valid.token, options), c, 'repeat after the refusal');

    for (const position of FLIP_POSITIONS) {
      const forged = await verifyOne(cache, c.flipped[position], options);
      assert.equal(forged.error?.code, 'ERR_JWS_SIGNATURE_INVALID', `${position} signature byte flipped: ${JSON.stringify(forged)}`);
      assertTokenRefused(forged, 'ERR_JWS_SIGNATURE_INVALID', `JWS signature invalid: it does not verify as ${alg} with the selected key`);
    }
    assertTokenRefused(await verifyOne(cache, c.expired, options), 'ERR_JWT_EXPIRED', 'JWT expired: "exp" has passed');
    // Its signature is good: at a time within its validity (currentDate) it verifies.
    const earlier = await verifyOne(cache, c.expired, { ...options, currentDate: (c.expiredClaims.exp - 60) * 1000 });
    assert.equal(earlier.error, undefined, JSON.stringify(earlier.error));
    assert.deepEqual(earlier.payload, c.expiredClaims);
    assert.deepEqual(await cryptoCallsSince(before), { importKey: 1, verify: 1 + FLIP_POSITIONS.length + 2 }, 'each new token checked once; the key imported once');
    assert.equal(issuer.jwksRequests, 1);
  });
}

test('a browser whose WebCrypto lacked P-521 (simulated: importKey rejects with NotSupportedError): ES512 is ERR_JWKS_NO_MATCHING_KEY, not a crash; other algorithms still verify', TEST, async () => {
  // Chromium has P-521 (the ES512 test above): this shows what the package would do without it.
  issuer.setKeys(suite.jwks);
  const options = suite.options(issuer.jwksUri);
  const es512 = suite.byAlg.ES512;
  const cache = await createCache();
  const before = await cryptoCalls();
  await page.evaluate(() => window.jwksHarness.refuseCurve('P-521'));
  try {
    for (let i = 0; i < 2; i += 1) {
      assertError(await verifyOne(cache, es512.valid.token, options), {
        name: 'JwtError',
        code: 'ERR_JWKS_NO_MATCHING_KEY',
        message: `No matching key in the JWKS: the key with kid "${es512.signer.kid}" for ES512 was refused by the host's crypto`,
        status: undefined,
        classes: ['JwksCacheError', 'JwtError'],
      });
    }
    assert.equal((await cryptoCallsSince(before)).importKey, 2, 'an asynchronous refusal may pass: each verification tries the import again');
    assertVerified(await verifyOne(cache, suite.byAlg.ES256.valid.token, options), suite.byAlg.ES256, 'ES256');
    assertVerified(await verifyOne(cache, suite.byAlg.ES384.valid.token, options), suite.byAlg.ES384, 'ES384');
    assert.equal(issuer.jwksRequests, 1);
  } finally {
    await page.evaluate(() => window.jwksHarness.refuseCurve(null));
  }
});

test('alg none and HS256 are refused (ERR_JWS_ALG_NOT_ALLOWED) without a JWKS request or any crypto', TEST, async () => {
  issuer.setKeys(suite.jwks);
  const options = suite.options(issuer.jwksUri);
  const { noneUnsecured, noneSigned, hs256, hs256KeyConfusion } = suite.refusedAlgorithms;
  const cache = await createCache();
  const before = await cryptoCalls();
  const requestsBefore = pageRequests.length;
  const [none, hs, confusion, unsecured, allowNone, allowHs] = await verifyAll(cache, [
    [noneSigned, options],
    [hs256, options],
    [hs256KeyConfusion, options],
    [noneUnsecured, options],
    [hs256, { ...options, algorithms: ['none'] }],
    [hs256, { ...options, algorithms: ['HS256'] }],
  ]);
  assertTokenRefused(none, 'ERR_JWS_ALG_NOT_ALLOWED', 'JWS algorithm not allowed: "none"');
  assertTokenRefused(hs, 'ERR_JWS_ALG_NOT_ALLOWED', 'JWS algorithm not allowed: "HS256"');
  assertTokenRefused(confusion, 'ERR_JWS_ALG_NOT_ALLOWED', 'JWS algorithm not allowed: "HS256"');
  // The Unsecured JWS of RFC 7519 6.1 (alg none, empty signature): its alg is refused first.
  assertTokenRefused(unsecured, 'ERR_JWS_ALG_NOT_ALLOWED', 'JWS algorithm not allowed: "none"');
  // A caller cannot allow them either.
  for (const outcome of [allowNone, allowHs]) {
    assertError(outcome, {
      name: 'JwksArgumentError',
      code: 'ERR_INVALID_OPTION',
      message: /^Invalid option: algorithms: "(none|HS256)" is not one of /,
      status: undefined,
      classes: ['JwksCacheError', 'JwksArgumentError'],
    });
  }
  assert.equal(issuer.jwksRequests, 0);
  assert.deepEqual(pageRequests.slice(requestsBefore).map((r) => r.url()), [], 'no request was sent');
  assert.deepEqual(await cryptoCallsSince(before), { importKey: 0, verify: 0 });
});

test('verifyToken (the package\'s shared cache): a token verifies, verifies again, and is refused on a repeat with a wrong audience', TEST, async () => {
  issuer.setKeys(suite.jwks);
  const options = suite.options(issuer.jwksUri);
  const c = suite.byAlg.ES512;
  assertVerified(await verifyOne('verifyToken', c.valid.token, options), c, 'first');
  assertVerified(await verifyOne('verifyToken', c.valid.token, options), c, 'repeat');
  assertTokenRefused(await verifyOne('verifyToken', c.valid.token, { ...options, audience: 'api://someone-else' }), 'ERR_JWT_CLAIM_INVALID', /"aud"/);
  assertTokenRefused(await verifyOne('verifyToken', c.flipped.middle, options), 'ERR_JWS_SIGNATURE_INVALID', /ES512/);
  assert.equal(issuer.jwksRequests, 1);
});

test('100 concurrent verify calls of every algorithm on a cold cache: one JWKS request, one import per key', TEST, async (t) => {
  issuer.setKeys(suite.jwks);
  issuer.behave('slow', 100);
  const options = suite.options(issuer.jwksUri);
  const cache = await createCache();
  const before = await cryptoCalls();
  // Per algorithm: its valid token six times, two forged ones and two expired ones, all at once.
  const calls = suite.cases.flatMap((c) => [
    ...Array.from({ length: 6 }, () => [c, 'valid', c.valid.token]),
    [c, 'forged', c.flipped.first],
    [c, 'forged', c.flipped.last],
    [c, 'expired', c.expired],
    [c, 'expired', c.expired],
  ]);
  const answers = await verifyAll(cache, calls.map(([, , token]) => [token, options]));
  for (const [i, [c, kind]] of calls.entries()) {
    const label = `#${i} ${c.alg} ${kind}`;
    if (kind === 'valid') assertVerified(answers[i], c, label);
    if (kind === 'forged') assert.equal(answers[i].error?.code, 'ERR_JWS_SIGNATURE_INVALID', `${label}: ${JSON.stringify(answers[i])}`);
    if (kind === 'expired') assert.equal(answers[i].error?.code, 'ERR_JWT_EXPIRED', `${label}: ${JSON.stringify(answers[i])}`);
  }
  assert.equal(issuer.jwksRequests, 1);
  const work = await cryptoCallsSince(before);
  t.diagnostic(`crypto.subtle calls for 100 concurrent verifications of 40 distinct tokens: ${JSON.stringify(work)}`);
  assert.equal(work.importKey, ALGORITHMS.length, 'each key imported once, the import shared by the calls that needed it');
  assert.ok(work.verify >= 4 * ALGORITHMS.length && work.verify <= calls.length, `signature checks: ${work.verify}`);
});

test('the page logged no console errors or warnings and threw no page errors', TEST, async () => {
  await sleep(200); // console events of the last test may still be on their way
  const unexpected = problems.filter((p) => !tolerated.some((t) => t.text.test(p.text) && (t.url === undefined || t.url === p.url)));
  assert.deepEqual(unexpected, []);
});
