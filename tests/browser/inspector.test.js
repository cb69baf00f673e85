// The token inspector (inspector/, assembled by scripts/inspector.js into build/inspector/) in
// Debian's Chromium, driven by playwright-core. The page is served by the script's own static
// server; the issuers it reads are on other loopback origins (CORS in play): one with CORS
// headers, one without, one whose JWKS alone lacks them, and a port where nothing listens; some
// tests start servers of their own (startServer: broken responses, 127.0.0.2 and [::1] that the
// page's policy does not let it reach, slow answers, lookalike kids). Tokens are signed in Node. Each case asserts what the page shows: the verdict, its colour, the error
// code and the sentence that says what to fix, the key the token selects and the rest of the set.
// Throughout, every request the pages make is recorded (only the page's own files, discovery
// documents and key sets may be asked for, and no URL may carry a token), and so is the console
// (no unexpected error, and no token in any message).
//
//   node --test tests/browser/
//   UPDATE_DOCS_SCREENSHOT=1 node --test tests/browser/inspector.test.js   also writes docs/inspector.png
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { explainError } from 'jwks-cache';
import { makeSigner, b64url, nowSec } from '../support/signer.js';
import { serveStatic, CONTENT_SECURITY_POLICY } from '../../scripts/inspector.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const buildDir = `${root}build/inspector/`;
const screenshotDir = `${root}build/screenshots/`;
const TEST = { timeout: 20_000 };
const DISCOVERY_PATH = '/.well-known/openid-configuration';
const JWKS_PATH = '/keys.json';
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };
/** The verdict banner's left border, by verdict (inspector.css, light scheme). */
/** A 2048-bit RSA public key, made once with openssl (no RSA key is generated here: see tests/support/signer.js's users). */
const RSA_PUBLIC_JWK = {
  kty: 'RSA',
  n: '4y6USdR5NqOmfNyvePKqd3HaxKPnn4TW5E4ORDK_g6BATxP_z6TC5_U-ah1bKFRvVVq0N-kxc7sHrb3HeUp7Wb8gYBnJy6QAIzasEdEstlMH9hGGzLE0TAadxDcmFHfiw_rBnKKNlgF6u7VS1YhYB5lNuvALZQ122cFE_u8FW9jY8HjwwdrUAIQLv344QBi1Y66Bh4D992zjVw6swbPSp4NoEbz74SgjEGhDINhf26Fk2Uq7jFx66TtUZOdJs8puJR8UqPkYvbAgdGgnU7yQodBt2NY1T91xEeEyct82K-4BPW-X0y0OMwJ521X8UesIccibV0M-Htmb_bfxzHvETQ',
  e: 'AQAB',
};
const BANNER_COLOURS = { valid: 'rgb(13, 107, 52)', refused: 'rgb(168, 35, 27)', 'cannot-check': 'rgb(122, 77, 0)' };

let site; // build/inspector/, served by scripts/inspector.js's server
let issuer; // discovery and JWKS with CORS headers
let noCors; // the same without any CORS header
let jwksNoCors; // discovery with CORS headers, its JWKS without
let closedPort; // a loopback port where nothing listens
let browser;
let signer; // ES256, kid 'ec-main', in the issuer's set
let impostor; // ES256 with the same kid, not in any set

/** Console messages (every type), page errors and crashes of every page, as { kind, text, url }. */
const consoleMessages = [];
/** Messages a test provokes on purpose: { text: RegExp, url?: string }. */
const tolerated = [];
/** Every request of every page: { url, method, postData, resourceType }. */
const requests = [];
/** Every token given to a page, to look for in URLs and logs. */
const tokensUsed = new Set();

/** An OpenID issuer on 127.0.0.1: a discovery document and a JWKS, each with CORS headers or not. */
async function startIssuer({ discoveryCors = true, jwksCors = true } = {}) {
  let keys = [];
  let jwksStatus = 200;
  const counts = new Map();
  let origin;
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const cors = path === JWKS_PATH ? jwksCors : discoveryCors;
    const headers = { 'content-type': 'application/json', ...(cors ? { 'access-control-allow-origin': '*' } : {}) };
    if (path === DISCOVERY_PATH) return void res.writeHead(200, headers).end(JSON.stringify({ issuer: origin, jwks_uri: origin + JWKS_PATH }));
    if (path === JWKS_PATH) {
      if (jwksStatus !== 200) return void res.writeHead(jwksStatus, { ...headers, 'content-type': 'text/plain' }).end(`status ${jwksStatus}`);
      return void res.writeHead(200, headers).end(JSON.stringify({ keys }));
    }
    res.writeHead(404, headers).end('{}');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    discoveryUri: origin + DISCOVERY_PATH,
    jwksUri: origin + JWKS_PATH,
    setKeys: (next) => void (keys = next),
    setJwksStatus: (status) => void (jwksStatus = status),
    requestsTo: (path) => counts.get(path) ?? 0,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A fresh browser context and page on the inspector, its requests and console recorded. */
async function openInspector({ viewport = DESKTOP, url = site.url, mobile = false } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, ...(mobile ? { isMobile: true, hasTouch: true } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (message) => consoleMessages.push({ kind: `console.${message.type()}`, text: message.text(), url: message.location().url }));
  page.on('pageerror', (error) => consoleMessages.push({ kind: 'pageerror', text: String(error?.stack ?? error), url: page.url() }));
  page.on('crash', () => consoleMessages.push({ kind: 'crash', text: 'the page crashed', url: page.url() }));
  page.on('request', (request) => requests.push({ url: request.url(), method: request.method(), postData: request.postData(), resourceType: request.resourceType() }));
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.dataset.inspector === 'ready', null, { timeout: 15_000 }).catch((error) => {
    throw new Error(`the inspector did not load the package: ${error.message}\n${JSON.stringify(consoleMessages, null, 2)}`);
  });
  return { context, page, close: () => context.close() };
}

/** Fills the fields, clicks Check, waits for a verdict, and returns what the page shows. */
async function check(page, { token, jwksUri = '', issuer: expectedIssuer = '', audience = '' }) {
  tokensUsed.add(token);
  const startUrl = page.url();
  const startHistory = await page.evaluate(() => history.length);
  await page.fill('#token', token);
  await page.fill('#jwks-uri', jwksUri);
  await page.fill('#issuer', expectedIssuer);
  await page.fill('#audience', audience);
  await page.click('#check');
  const shown = await waitForVerdict(page);
  await assertNothingKept(page, { url: startUrl, history: startHistory }, token);
  return shown;
}

async function waitForVerdict(page) {
  await page.waitForFunction(() => !['idle', 'checking'].includes(document.getElementById('verdict').dataset.verdict));
  return readPage(page);
}

/** What the page shows, as plain data. */
function readPage(page) {
  return page.evaluate(() => {
    const verdict = document.getElementById('verdict');
    const text = (selector, from = document) => from.querySelector(selector)?.textContent ?? null;
    const card = (element) => ({
      kid: element.dataset.kid,
      facts: Object.fromEntries([...element.querySelectorAll('[data-field]')].map((d) => [d.dataset.field, d.querySelector('dd').textContent])),
      badges: [...element.querySelectorAll('.badge')].map((b) => b.textContent),
      ignored: text('.key-ignored', element),
      note: text('.key-note', element),
    });
    const matched = document.querySelector('#matched-key .key');
    return {
      verdict: verdict.dataset.verdict,
      bannerColour: getComputedStyle(verdict).borderLeftColor,
      bannerVisible: verdict.getBoundingClientRect().height > 0,
      title: text('.verdict-title', verdict),
      summary: text('.verdict-summary', verdict),
      code: text('.verdict-code code', verdict),
      explanation: text('.verdict-explain', verdict),
      message: text('.verdict-message', verdict),
      notes: [...verdict.querySelectorAll('.verdict-notes li')].map((li) => li.textContent),
      liveRegion: verdict.getAttribute('aria-live'),
      detailsShown: !document.getElementById('details').hidden,
      findings: [...document.querySelectorAll('#findings li[data-code]')].map((li) => ({ code: li.dataset.code, refused: li.classList.contains('finding--refused'), text: li.textContent })),
      times: Object.fromEntries([...document.querySelectorAll('#times li[data-claim]')].map((li) => [li.dataset.claim, { text: text('.time-text', li), problem: li.classList.contains('time--problem') }])),
      header: text('#header-json'),
      payload: text('#payload-json'),
      keySource: text('#key-source'),
      jwksUri: text('#key-source [data-field="jwks-uri"]'),
      matched: matched ? card(matched) : null,
      noMatch: text('#matched-key .key-missing'),
      others: [...document.querySelectorAll('#other-keys .key')].map(card),
    };
  });
}

/** The token is in no URL of the page, nor in any storage of its origin. */
async function assertNothingKept(page, start, token) {
  assert.equal(page.url(), start.url, 'the page URL did not change');
  assert.ok(!page.url().includes(token.slice(0, 20)));
  const kept = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie, history: history.length }));
  assert.deepEqual(kept, { local: 0, session: 0, cookie: '', history: start.history }, 'no storage, no cookie, no history entry');
  assert.deepEqual(await page.context().cookies(), []);
}

async function screenshot(page, name, options = {}) {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: `${screenshotDir}inspector-${name}.png`, fullPage: true, ...options });
}

function assertBanner(shown, kind) {
  assert.equal(shown.verdict, kind, JSON.stringify(shown, null, 2));
  assert.equal(shown.bannerColour, BANNER_COLOURS[kind], `the ${kind} banner's colour`);
  assert.equal(shown.bannerVisible, true);
}

/** A refusal: red, the code, and the package's sentence for it. */
function assertRefused(shown, code) {
  assertBanner(shown, 'refused');
  assert.equal(shown.code, code, JSON.stringify(shown, null, 2));
  assert.equal(shown.explanation, explainError({ code }));
  assert.match(shown.title, /Refused/);
}

const claims = (extra = {}) => ({ iss: issuer.origin, sub: 'alice', aud: 'api://inspector-tests', iat: nowSec() - 60, exp: nowSec() + 240, ...extra });

/** What the page says when a server answered but the page could not read the response. */
const corsExplanation = (origin, url) =>
  `${origin} answered, but this page could not read the response from ${url}. Most often that is CORS: the response has no Access-Control-Allow-Origin header, or one that names another origin, so the browser withholds it from this page. Otherwise the response broke off on the way (a connection cut mid-body, a corrupt compressed body). Check that it sends “Access-Control-Allow-Origin: *” (the discovery document and the JWKS are public; servers that verify tokens are not affected) and that it serves a whole response; this browser’s console says which it was.`;

/** Origins of the servers tests start with startServer: their discovery documents and key sets may be asked for. */
const testServers = new Set();

/**
 * A loopback server whose answers a test writes: `routes` maps a path to (req, res, origin) => void
 * (other paths: 404). Records each request as { path, aborted } (aborted: the client closed it
 * before the answer was complete). Resolves to { origin, seen, close() }.
 */
async function startServer(routes, { host = '127.0.0.1' } = {}) {
  const seen = [];
  let origin;
  const server = http.createServer((req, res) => {
    const entry = { path: new URL(req.url, 'http://x').pathname, aborted: false };
    seen.push(entry);
    res.on('close', () => void (entry.aborted = !res.writableFinished));
    const route = routes[entry.path];
    if (route === undefined) return void res.writeHead(404, { 'content-type': 'text/plain', 'access-control-allow-origin': '*' }).end('not found');
    route(req, res, origin);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address();
  origin = host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`;
  testServers.add(origin);
  return {
    origin,
    seen,
    requestsTo: (path) => seen.filter((r) => r.path === path).length,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A route answering JSON (`value`, or what a function of the origin gives), with CORS by default. */
const json = (value, { cors = '*', status = 200, delayMs = 0 } = {}) => (req, res, origin) => {
  const answer = () => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json', ...(cors ? { 'access-control-allow-origin': cors } : {}) });
    res.end(JSON.stringify(typeof value === 'function' ? value(origin) : value));
  };
  if (delayMs > 0) setTimeout(answer, delayMs);
  else answer();
};
const discoveryOf = (origin) => ({ issuer: origin, jwks_uri: origin + JWKS_PATH });

before(
  async () => {
    const build = await promisify(execFile)(process.execPath, [`${root}scripts/inspector.js`, '--build-only'], { cwd: root });
    assert.match(build.stdout, /Assembled .*build\/inspector/);
    site = await serveStatic(buildDir, { port: 0 });
    signer = makeSigner('ES256', { kid: 'ec-main' });
    impostor = makeSigner('ES256', { kid: 'ec-main' });
    const keys = [
      signer.jwk,
      makeSigner('EdDSA', { kid: 'ed-second' }).jwk,
      makeSigner('ES256', { kid: null }).jwk, // no kid: only a token without a kid could select it
      makeSigner('ES256', { kid: 'enc-1', jwkMembers: { use: 'enc' } }).jwk, // the cache ignores it: not for signatures
      { ...RSA_PUBLIC_JWK, kid: 'rsa-2048', alg: 'RS256', use: 'sig' },
    ];
    [issuer, noCors, jwksNoCors] = await Promise.all([startIssuer(), startIssuer({ discoveryCors: false, jwksCors: false }), startIssuer({ jwksCors: false })]);
    for (const server of [issuer, noCors, jwksNoCors]) server.setKeys(keys);
    const gone = await startIssuer();
    closedPort = new URL(gone.origin).port;
    await gone.close();
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      // launch() gives the browser a fresh temporary profile of its own.
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      timeout: 30_000,
    });
  },
  { timeout: 60_000 },
);

after(async () => {
  await browser?.close();
  await Promise.all([site?.close(), issuer?.close(), noCors?.close(), jwksNoCors?.close()]);
});

test('the assembled page: the package beside it, relative URLs, no form, the privacy attributes, CSP by header and meta', TEST, async () => {
  for (const file of ['index.html', 'inspector.js', 'inspector.css', 'jwks-cache/browser.js', 'jwks-cache/wasm/jwks_cache_bg.wasm']) {
    assert.ok(statSync(buildDir + file).isFile(), file);
  }
  const html = readFileSync(`${buildDir}index.html`, 'utf8');
  for (const [, attribute, value] of html.matchAll(/\b(src|href|action)="([^"]*)"/g)) {
    assert.ok(value.startsWith('./') || value === 'data:,', `${attribute}="${value}" is relative`);
  }
  assert.match(readFileSync(`${buildDir}inspector.js`, 'utf8'), /import\('\.\/jwks-cache\/browser\.js'\)/, 'the page loads the package by its browser entry');

  const { page, close } = await openInspector();
  const shape = await page.evaluate(() => {
    const token = document.getElementById('token');
    return {
      forms: document.querySelectorAll('form').length,
      buttonTypes: [...document.querySelectorAll('button')].map((b) => b.getAttribute('type')),
      textarea: ['autocomplete', 'spellcheck', 'autocapitalize'].map((name) => token.getAttribute(name)),
      labelled: [...document.querySelectorAll('textarea, input')].every((field) => field.labels.length === 1),
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content,
      referrer: document.querySelector('meta[name="referrer"]')?.content,
      viewport: document.querySelector('meta[name="viewport"]')?.content,
      liveRegion: document.querySelector('[aria-live]')?.id,
    };
  });
  assert.deepEqual(shape.buttonTypes, ['button', 'button']);
  assert.equal(shape.forms, 0);
  assert.deepEqual(shape.textarea, ['off', 'false', 'off']);
  assert.equal(shape.labelled, true);
  assert.equal(shape.referrer, 'no-referrer');
  assert.match(shape.viewport, /width=device-width/);
  assert.equal(shape.liveRegion, 'verdict');
  // The meta policy is the header's, less what a meta element cannot carry.
  assert.equal(shape.csp, CONTENT_SECURITY_POLICY.replace("; frame-ancestors 'none'", ''));
  for (const directive of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", 'connect-src ', "style-src 'self'", "img-src 'self' data:", "base-uri 'none'", "form-action 'none'"]) {
    assert.ok(shape.csp.includes(directive), directive);
  }
  await close();

  // The server: content types, the policy, nothing outside the directory.
  const get = (path) => new Promise((resolve, reject) => {
    http.get(`${site.origin}${path}`, (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    }).on('error', reject);
  });
  const index = await get('/');
  assert.equal(index.statusCode, 200);
  assert.equal(index.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
  assert.equal(index.headers['referrer-policy'], 'no-referrer');
  assert.match(index.headers['content-type'], /^text\/html/);
  assert.match((await get('/inspector.js')).headers['content-type'], /^text\/javascript/);
  assert.equal((await get('/jwks-cache/wasm/jwks_cache_bg.wasm')).headers['content-type'], 'application/wasm');
  assert.equal((await get('/%2e%2e/%2e%2e/package.json')).statusCode, 404);
  assert.equal((await get('/no-such-file.js')).statusCode, 404);
});

test('a valid token, its keys found by OpenID discovery from its iss: green, the selected key and the rest of the set', TEST, async (t) => {
  const before = { discovery: issuer.requestsTo(DISCOVERY_PATH), jwks: issuer.requestsTo(JWKS_PATH) };
  const { page, close } = await openInspector();
  const shown = await check(page, { token: signer.sign(claims(), { header: { typ: 'JWT' } }) });
  assertBanner(shown, 'valid');
  assert.match(shown.title, /^✓\s*Valid$/);
  assert.match(shown.summary, /key “ec-main” \(ES256\)/);
  assert.match(shown.summary, /expires in 4 min/);
  assert.equal(shown.code, null);
  assert.ok(shown.notes.some((n) => /Issuer not checked/.test(n)) && shown.notes.some((n) => /Audience not checked/.test(n)), shown.notes.join('\n'));

  assert.equal(shown.jwksUri, issuer.jwksUri);
  assert.match(shown.keySource, new RegExp(`found by OpenID discovery from ${issuer.origin}`));
  assert.equal(shown.matched.kid, 'ec-main');
  assert.deepEqual(shown.matched.facts, { kty: 'EC', alg: 'ES256', curve: 'P-256', use: 'absent', verifies: 'ES256' });
  assert.deepEqual(shown.matched.badges, ['selected by the token']);
  assert.deepEqual(shown.others.map((k) => k.kid), ['ed-second', '', 'enc-1', 'rsa-2048']);
  assert.deepEqual(shown.others[0].facts, { kty: 'OKP', alg: 'EdDSA', curve: 'Ed25519', use: 'absent', verifies: 'EdDSA' });
  assert.equal(shown.others[0].ignored, null);
  assert.equal(shown.others[0].note, null);
  assert.match(shown.others[1].note, /^no kid: only a token without a kid selects it/, 'a key without a kid says who can select it');
  assert.deepEqual(shown.others[2].facts, { kty: 'EC', alg: 'absent', curve: 'P-256', use: 'enc', verifies: 'absent' });
  assert.deepEqual(shown.others[2].badges, ['ignored']);
  assert.match(shown.others[2].ignored, /not for signatures: "use" is not "sig"/, 'the page says why the cache ignores it');
  assert.deepEqual(shown.others[3].facts, { kty: 'RSA', alg: 'RS256', size: '2048 bits', use: 'sig', verifies: 'RS256' });

  assert.deepEqual(shown.findings, []);
  assert.equal(shown.times.exp.text, 'expires in 4 min');
  assert.equal(shown.times.iat.text, 'issued 1 min ago');
  assert.equal(shown.times.exp.problem, false);
  assert.match(shown.header, /"typ": "JWT"/);
  assert.match(shown.payload, /"sub": "alice"/);
  assert.match(shown.payload, /\n {2}"aud": "api:\/\/inspector-tests",\n/, 'pretty-printed');

  assert.equal(issuer.requestsTo(DISCOVERY_PATH) - before.discovery, 1, 'one discovery request');
  assert.equal(issuer.requestsTo(JWKS_PATH) - before.jwks, 1, 'one JWKS request: verify used the set loadKeySet fetched');
  await screenshot(page, 'valid');
  if (process.env.UPDATE_DOCS_SCREENSHOT === '1') {
    // The README's picture: made smaller by pngquant when it is installed (apt-get install pngquant).
    const path = `${root}docs/inspector.png`;
    await page.setViewportSize({ width: 1100, height: 760 });
    await page.screenshot({ path, fullPage: true });
    await promisify(execFile)('pngquant', ['--quality=70-90', '--speed=1', '--strip', '--force', '--output', path, path]).catch((error) => t.diagnostic(`pngquant: ${error.message}`));
    t.diagnostic(`docs/inspector.png: ${statSync(path).size} bytes`);
  }
  await close();
});

test('a valid token through a typed JWKS URI, with the expected issuer and audience; a wrong audience is refused', TEST, async () => {
  const before = issuer.requestsTo(DISCOVERY_PATH);
  const { page, close } = await openInspector();
  const token = signer.sign(claims());
  // As copied from an Authorization header: the "Bearer " is dropped.
  const shown = await check(page, { token: `Bearer ${token}`, jwksUri: issuer.jwksUri, issuer: issuer.origin, audience: 'api://inspector-tests' });
  assertBanner(shown, 'valid');
  assert.deepEqual(shown.notes, []);
  assert.equal(shown.jwksUri, issuer.jwksUri);
  assert.doesNotMatch(shown.keySource, /discovery/);
  assert.equal(shown.matched.kid, 'ec-main');
  assert.equal(issuer.requestsTo(DISCOVERY_PATH), before, 'no discovery with a typed JWKS URI');

  const wrongAudience = await check(page, { token, jwksUri: issuer.jwksUri, issuer: issuer.origin, audience: 'api://another, api://a-third' });
  assertRefused(wrongAudience, 'ERR_JWT_CLAIM_INVALID');
  assert.match(wrongAudience.message, /aud/);

  // A URI the package refuses to fetch (http: beyond loopback): said before any request.
  const insecure = await check(page, { token, jwksUri: 'http://jwks.invalid/keys.json' });
  assertBanner(insecure, 'cannot-check');
  assert.equal(insecure.code, 'ERR_JWKS_URI_INVALID');
  assert.equal(insecure.explanation, explainError({ code: 'ERR_JWKS_URI_INVALID' }));
  assert.equal(requests.filter((r) => r.url.includes('jwks.invalid')).length, 0);
  await close();
});

test('an expired token: red, ERR_JWT_EXPIRED and what to do, "expired 2 h ago"', TEST, async () => {
  const { page, close } = await openInspector();
  const shown = await check(page, { token: signer.sign(claims({ iat: nowSec() - 3 * 3600, exp: nowSec() - 2 * 3600 })) });
  assertRefused(shown, 'ERR_JWT_EXPIRED');
  assert.deepEqual(shown.times.exp, { text: 'expired 2 h ago', problem: true });
  assert.ok(shown.findings.some((f) => f.code === 'ERR_JWT_EXPIRED' && f.refused), JSON.stringify(shown.findings));
  assert.equal(shown.matched.kid, 'ec-main', 'the key is still shown');
  await screenshot(page, 'expired');
  await close();
});

test('a token not yet valid: red, ERR_JWT_NOT_YET_VALID, "not valid before ... (in 3 h)"', TEST, async () => {
  const { page, close } = await openInspector();
  const shown = await check(page, { token: signer.sign(claims({ nbf: nowSec() + 3 * 3600, exp: nowSec() + 4 * 3600 })) });
  assertRefused(shown, 'ERR_JWT_NOT_YET_VALID');
  assert.match(shown.times.nbf.text, /^not valid before \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 3 h\)$/);
  assert.equal(shown.times.nbf.problem, true);
  await close();
});

test('a signature made by another key under the same kid: red, ERR_JWS_SIGNATURE_INVALID, the key it was checked with', TEST, async () => {
  const { page, close } = await openInspector();
  const shown = await check(page, { token: impostor.sign(claims()) });
  assertRefused(shown, 'ERR_JWS_SIGNATURE_INVALID');
  assert.equal(shown.matched.kid, 'ec-main');
  await close();
});

test('a kid the set does not hold: red, ERR_JWKS_NO_MATCHING_KEY, the page says which kid, and lists the set', TEST, async () => {
  const { page, close } = await openInspector();
  const shown = await check(page, { token: makeSigner('ES256', { kid: 'rotated-away' }).sign(claims()) });
  assertRefused(shown, 'ERR_JWKS_NO_MATCHING_KEY');
  assert.equal(shown.matched, null);
  assert.match(shown.noMatch, /No key of the set has kid “rotated-away”/);
  assert.deepEqual(shown.others.map((k) => k.kid), ['ec-main', 'ed-second', '', 'enc-1', 'rsa-2048']);
  await screenshot(page, 'unknown-kid');
  await close();
});

test('alg "none": red, the algorithm refused, as the decoder saw at once; text that is no token: malformed', TEST, async () => {
  const { page, close } = await openInspector();
  const token = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify(claims()))}.`;
  const shown = await check(page, { token });
  assertRefused(shown, 'ERR_JWS_ALG_NOT_ALLOWED');
  assert.equal(shown.findings.length, 1, JSON.stringify(shown.findings));
  assert.equal(shown.findings[0].code, 'ERR_JWS_ALG_NOT_ALLOWED');
  assert.equal(shown.findings[0].refused, true);
  assert.match(shown.findings[0].text, /^refused ERR_JWS_ALG_NOT_ALLOWED.*"none"/);
  assert.match(shown.header, /"alg": "none"/);
  await screenshot(page, 'alg-none');

  // Not a token at all: refused as malformed, nothing decoded shown, nothing fetched.
  const before = issuer.requestsTo(DISCOVERY_PATH) + issuer.requestsTo(JWKS_PATH);
  const garbage = await check(page, { token: 'eyJhbGciOiJFUzI1NiJ9.not json.at all' });
  assertRefused(garbage, 'ERR_JWT_MALFORMED');
  assert.equal(garbage.detailsShown, false);
  assert.equal(issuer.requestsTo(DISCOVERY_PATH) + issuer.requestsTo(JWKS_PATH), before);
  await close();
});

test('no kid and a jku header: the notes a decoder sees, and no single key for ES256 in a set with two', TEST, async () => {
  const { page, close } = await openInspector();
  const noKid = makeSigner('ES256', { kid: null });
  const shown = await check(page, { token: noKid.sign(claims(), { header: { jku: 'https://attacker.example/keys.json' } }) });
  assertRefused(shown, 'ERR_JWKS_NO_MATCHING_KEY');
  assert.deepEqual(shown.findings.map((f) => [f.code, f.refused]), [['KID_MISSING', false], ['HEADER_KEY_IGNORED', false]]);
  assert.match(shown.findings[1].text, /^note HEADER_KEY_IGNORED.*"jku" is ignored/);
  assert.equal(shown.matched, null);
  assert.equal(shown.noMatch, 'The token has no kid, and no single key of the set can verify ES256.');
  await screenshot(page, 'no-kid');
  await close();
});

test('an issuer without CORS headers is explained as CORS, not as down: discovery, a typed JWKS URI, and a JWKS alone without them', TEST, async () => {
  for (const server of [noCors, jwksNoCors]) {
    tolerated.push(
      { text: new RegExp(`^Access to fetch at 'http://127\\.0\\.0\\.1:${new URL(server.origin).port}/.*' from origin '${site.origin}' has been blocked by CORS policy`) },
      { text: /^Failed to load resource: net::ERR_FAILED$/ },
    );
  }
  const { page, close } = await openInspector();
  const cases = [
    [{ token: signer.sign(claims({ iss: noCors.origin })) }, 'ERR_OIDC_DISCOVERY_INVALID', noCors.origin, noCors.discoveryUri],
    [{ token: signer.sign(claims({ iss: noCors.origin })), jwksUri: noCors.jwksUri }, 'ERR_JWKS_NETWORK', noCors.origin, noCors.jwksUri],
    [{ token: signer.sign(claims({ iss: jwksNoCors.origin })) }, 'ERR_JWKS_NETWORK', jwksNoCors.origin, jwksNoCors.jwksUri],
  ];
  for (const [input, code, origin, url] of cases) {
    const shown = await check(page, input);
    assertBanner(shown, 'cannot-check');
    assert.equal(shown.code, code);
    assert.match(shown.title, /CORS/);
    assert.equal(shown.explanation, corsExplanation(origin, url));
    assert.doesNotMatch(`${shown.title} ${shown.explanation}`, /unreachable|Nothing answered/);
  }
  await screenshot(page, 'cors');
  await close();
});

test('a JWKS where nothing listens is explained as unreachable, not as CORS', TEST, async () => {
  const jwksUri = `http://127.0.0.1:${closedPort}/keys.json`;
  tolerated.push({ text: /^Failed to load resource: net::ERR_CONNECTION_REFUSED$/, url: jwksUri });
  const { page, close } = await openInspector();
  const shown = await check(page, { token: signer.sign(claims()), jwksUri });
  assertBanner(shown, 'cannot-check');
  assert.equal(shown.code, 'ERR_JWKS_NETWORK');
  assert.match(shown.title, /unreachable/);
  assert.match(shown.explanation, new RegExp(`^Nothing answered at http://127\\.0\\.0\\.1:${closedPort}: .* This is not a CORS problem`));
  await close();
});

test('a JWKS that answers 503: amber, ERR_JWKS_HTTP_STATUS, the status and what to check', TEST, async () => {
  tolerated.push({ text: /^Failed to load resource: the server responded with a status of 503 /, url: issuer.jwksUri });
  issuer.setJwksStatus(503);
  try {
    const { page, close } = await openInspector();
    const shown = await check(page, { token: signer.sign(claims()) });
    assertBanner(shown, 'cannot-check');
    assert.equal(shown.code, 'ERR_JWKS_HTTP_STATUS');
    assert.match(shown.title, /the server answered HTTP 503\)$/);
    assert.equal(shown.explanation, explainError({ code: 'ERR_JWKS_HTTP_STATUS' }));
    assert.match(shown.message, /503/);
    assert.match(shown.keySource, /Not loaded: ERR_JWKS_HTTP_STATUS/);
    assert.equal(shown.matched, null);
    await screenshot(page, 'jwks-503');
    await close();
  } finally {
    issuer.setJwksStatus(200);
  }
});

test('a failure is a network failure by its code and reason, never by its message; the URL probed is the one the error names', TEST, async () => {
  // An issuer whose URL has "network" in it, answering 404 (with CORS): its message says "network".
  const odd = await startServer({
    [`/network${DISCOVERY_PATH}`]: json({ error: 'no such issuer' }, { status: 404 }),
    // A discovery document with CORS whose issuer is the word "network": refused as a document.
    [DISCOVERY_PATH]: json({ issuer: 'network', jwks_uri: 'x' }),
  });
  // Its discovery names a JWKS where nothing listens the first time, and a working one after: the
  // page must probe the URI that failed, not read discovery again and probe another.
  let reads = 0;
  const moving = await startServer({
    [DISCOVERY_PATH]: json((origin) => ({ issuer: origin, jwks_uri: reads++ === 0 ? `http://127.0.0.1:${closedPort}${JWKS_PATH}` : origin + JWKS_PATH })),
    [JWKS_PATH]: json({ keys: [signer.jwk] }),
  });
  tolerated.push(
    { text: /^Failed to load resource: the server responded with a status of 404 /, url: `${odd.origin}/network${DISCOVERY_PATH}` },
    { text: /^Failed to load resource: net::ERR_CONNECTION_REFUSED$/, url: `http://127.0.0.1:${closedPort}${JWKS_PATH}` },
  );
  try {
    const { page, close } = await openInspector();
    const notFound = await check(page, { token: signer.sign(claims({ iss: `${odd.origin}/network` })) });
    assertBanner(notFound, 'cannot-check');
    assert.equal(notFound.code, 'ERR_OIDC_DISCOVERY_INVALID');
    assert.match(notFound.message, /network/, 'the message does say "network"');
    assert.match(notFound.title, /^!?Cannot check: OpenID discovery failed \(the server answered HTTP 404\)$/);
    assert.equal(notFound.explanation, explainError({ code: 'ERR_OIDC_DISCOVERY_INVALID', reason: 'status' }));
    assert.doesNotMatch(`${notFound.title} ${notFound.explanation}`, /CORS|unreachable|Nothing answered/);
    assert.equal(odd.requestsTo(`/network${DISCOVERY_PATH}`), 1, 'one request: no probe of a server that answered');

    const mismatch = await check(page, { token: signer.sign(claims({ iss: odd.origin })) });
    assertBanner(mismatch, 'cannot-check');
    assert.equal(mismatch.code, 'ERR_OIDC_DISCOVERY_INVALID');
    assert.match(mismatch.message, /"network"/);
    assert.doesNotMatch(`${mismatch.title} ${mismatch.explanation}`, /CORS|unreachable|Nothing answered/);
    assert.equal(odd.requestsTo(DISCOVERY_PATH), 1);

    const moved = await check(page, { token: signer.sign(claims({ iss: moving.origin })) });
    assertBanner(moved, 'cannot-check');
    assert.equal(moved.code, 'ERR_JWKS_NETWORK');
    assert.match(moved.title, /unreachable/);
    assert.match(moved.explanation, new RegExp(`^Nothing answered at http://127\\.0\\.0\\.1:${closedPort}: `));
    assert.equal(moving.requestsTo(DISCOVERY_PATH), 1, 'discovery read once: the page does not read it again to find the URI');
    assert.equal(moving.requestsTo(JWKS_PATH), 0);
    await close();
  } finally {
    await Promise.all([odd.close(), moving.close()]);
  }
});

test('a server that sent CORS headers but whose response broke, or that named another origin: the page says what it knows, not "no header"', TEST, async () => {
  const server = await startServer({
    [DISCOVERY_PATH]: json(discoveryOf),
    // The header, then the connection dies mid-body.
    [JWKS_PATH]: (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '5000', 'access-control-allow-origin': '*' });
      res.write('{"keys":[');
      setTimeout(() => res.socket.destroy(), 50);
    },
  });
  // A body that is not the gzip its header says.
  const gzip = await startServer({
    [JWKS_PATH]: (req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'access-control-allow-origin': '*' }).end('this is not gzip at all'),
  });
  const otherOrigin = await startServer({ [DISCOVERY_PATH]: json(discoveryOf, { cors: 'https://other.example' }) });
  tolerated.push(
    { text: /^Failed to load resource: net::ERR_CONTENT_LENGTH_MISMATCH$/, url: server.origin + JWKS_PATH },
    { text: /^Failed to load resource: net::ERR_CONTENT_DECODING_FAILED$/, url: gzip.origin + JWKS_PATH },
    { text: new RegExp(`^Access to fetch at '${otherOrigin.origin}${DISCOVERY_PATH}' from origin '${site.origin}' has been blocked by CORS policy: The 'Access-Control-Allow-Origin' header has a value 'https://other\\.example' that is not equal to the supplied origin`) },
    { text: /^Failed to load resource: net::ERR_FAILED$/, url: otherOrigin.origin + DISCOVERY_PATH },
  );
  try {
    const { page, close } = await openInspector();
    const cases = [
      [{ token: signer.sign(claims({ iss: server.origin })) }, 'ERR_JWKS_NETWORK', server.origin, server.origin + JWKS_PATH],
      [{ token: signer.sign(claims()), jwksUri: gzip.origin + JWKS_PATH }, 'ERR_JWKS_NETWORK', gzip.origin, gzip.origin + JWKS_PATH],
      [{ token: signer.sign(claims({ iss: otherOrigin.origin })) }, 'ERR_OIDC_DISCOVERY_INVALID', otherOrigin.origin, otherOrigin.origin + DISCOVERY_PATH],
    ];
    for (const [input, code, origin, url] of cases) {
      const shown = await check(page, input);
      assertBanner(shown, 'cannot-check');
      assert.equal(shown.code, code, url);
      assert.match(shown.title, /the server answered, but this page could not read the response/);
      assert.equal(shown.explanation, corsExplanation(origin, url));
      assert.doesNotMatch(`${shown.title} ${shown.explanation}`, /without an Access-Control-Allow-Origin header|The server is up|unreachable/);
    }
    await close();
  } finally {
    await Promise.all([server.close(), gzip.close(), otherOrigin.close()]);
  }
});

test('an issuer this page\'s Content-Security-Policy does not let it reach (127.0.0.2, [::1]): said so, not "nothing answered"', TEST, async (t) => {
  const servers = [await startServer({ [DISCOVERY_PATH]: json(discoveryOf), [JWKS_PATH]: json({ keys: [signer.jwk] }) }, { host: '127.0.0.2' })];
  try {
    servers.push(await startServer({ [DISCOVERY_PATH]: json(discoveryOf), [JWKS_PATH]: json({ keys: [signer.jwk] }) }, { host: '::1' }));
  } catch (error) {
    t.diagnostic(`no IPv6 loopback here (${error.code}): [::1] not tried`);
  }
  // Chromium says it twice: once per policy (the header's and the meta element's).
  tolerated.push(
    { text: /^Connecting to 'http:\/\/(127\.0\.0\.2|\[::1\]):\d+\/[^']*' violates the following Content Security Policy directive: "connect-src / },
    { text: /^Fetch API cannot load http:\/\/(127\.0\.0\.2|\[::1\]):\d+\/\S*\. Refused to connect because it violates the document's Content Security Policy\.$/ },
  );
  try {
    const { page, close } = await openInspector();
    for (const server of servers) {
      for (const jwksUri of ['', server.origin + JWKS_PATH]) {
        const shown = await check(page, { token: signer.sign(claims({ iss: server.origin })), jwksUri });
        assertBanner(shown, 'cannot-check');
        assert.equal(shown.code, jwksUri === '' ? 'ERR_OIDC_DISCOVERY_INVALID' : 'ERR_JWKS_NETWORK');
        assert.match(shown.title, /Content-Security-Policy/);
        assert.equal(
          shown.explanation,
          `The browser did not send the request for ${jwksUri || server.origin + DISCOVERY_PATH}: this page’s Content-Security-Policy only lets it connect to https: addresses and to http on 127.0.0.1 or localhost. Nothing is known of that server. To check its tokens here, serve the issuer on https:, or on http://127.0.0.1 or http://localhost.`,
        );
        assert.doesNotMatch(`${shown.title} ${shown.explanation}`, /unreachable|Nothing answered|CORS/);
      }
      assert.deepEqual(server.seen, [], 'the browser sent it nothing');
    }
    await close();
  } finally {
    await Promise.all(servers.map((server) => server.close()));
  }
});

test('a newer check or Clear aborts the check it overtakes: quick clicks give no false timeout, Clear closes the request and nothing is rendered', { timeout: 40_000 }, async () => {
  const slow = await startServer({ [DISCOVERY_PATH]: json(discoveryOf), [JWKS_PATH]: json({ keys: [signer.jwk] }, { delayMs: 2_600 }) });
  try {
    const { page, close } = await openInspector();
    const token = signer.sign(claims({ iss: slow.origin }));
    tokensUsed.add(token);
    await page.fill('#token', token);
    // Fourteen checks started in under a second: without aborting, they queue on the browser's six
    // connections per host and the last one times out.
    for (let i = 0; i < 14; i++) {
      await page.click('#check');
      await sleep(30);
    }
    const started = Date.now();
    const shown = await waitForVerdict(page);
    assertBanner(shown, 'valid');
    assert.ok(Date.now() - started < 5_000, `the last check took ${Date.now() - started} ms (a request queued behind stale ones)`);
    await sleep(200);
    const jwks = slow.seen.filter((r) => r.path === JWKS_PATH);
    assert.ok(jwks.length >= 1);
    assert.equal(jwks.filter((r) => !r.aborted).length, 1, 'only the last check\'s request was answered; the others were aborted');

    // Clear while the key set is on its way: the request is closed, and the check shows nothing.
    const before = slow.seen.length;
    await page.click('#check');
    await page.waitForFunction(() => document.getElementById('key-source').textContent.startsWith('Discovering'));
    await sleep(400);
    await page.click('#clear');
    await sleep(300);
    const pending = slow.seen.slice(before).filter((r) => r.path === JWKS_PATH);
    assert.equal(pending.length, 1);
    assert.equal(pending[0].aborted, true, 'Clear aborted the JWKS request');
    await sleep(2_800);
    assert.deepEqual(await page.evaluate(() => ({ verdict: document.getElementById('verdict').dataset.verdict, text: document.getElementById('verdict').textContent, details: document.getElementById('details').hidden })), {
      verdict: 'idle',
      text: '',
      details: true,
    });
    await close();
  } finally {
    await slow.close();
  }
});

test('the time claims are judged again after the key set arrives: no "expires in 1 s" beside ERR_JWT_EXPIRED, and the summary says the fresh time', { timeout: 30_000 }, async () => {
  const slow = await startServer({ [DISCOVERY_PATH]: json(discoveryOf), [JWKS_PATH]: json({ keys: [signer.jwk] }, { delayMs: 3_000 }) });
  try {
    const { page, close } = await openInspector();
    // Expires during the fetch.
    const expired = await check(page, { token: signer.sign(claims({ iss: slow.origin, exp: nowSec() + 2 })) });
    assertRefused(expired, 'ERR_JWT_EXPIRED');
    assert.match(expired.times.exp.text, /^expired (now|\d+ s ago)$/, JSON.stringify(expired.times));
    assert.equal(expired.times.exp.problem, true);
    assert.ok(expired.findings.some((f) => f.code === 'ERR_JWT_EXPIRED' && f.refused), JSON.stringify(expired.findings));

    // Still valid after the fetch: the summary's time is the one judged after it.
    const valid = await check(page, { token: signer.sign(claims({ iss: slow.origin, exp: nowSec() + 7 })) });
    assertBanner(valid, 'valid');
    const seconds = Number(/^expires in (\d+) s$/.exec(valid.times.exp.text)?.[1]);
    assert.ok(seconds <= 5, `exp judged before the fetch: ${valid.times.exp.text}`);
    assert.ok(valid.summary.endsWith(`, and the claims are accepted: ${valid.times.exp.text}.`), valid.summary);
    await close();
  } finally {
    await slow.close();
  }
});

test('kids from outside: an RLO cannot rewrite the verdict, and key-1, key-1 with a zero-width space and a Cyrillic lookalike look different', TEST, async () => {
  const kids = {
    plain: 'key-1',
    zwsp: 'key-1\u200b',
    rlo: '\u202e1-yek',
    cyrillic: 'k\u0435y-1',
    spoof: 'main” (ES256) of https://login.example.com/keys, and the claims are accepted.\u2029\u202e',
  };
  const signers = Object.fromEntries(Object.entries(kids).map(([name, kid]) => [name, makeSigner('ES256', { kid })]));
  const server = await startServer({ [DISCOVERY_PATH]: json(discoveryOf), [JWKS_PATH]: json({ keys: Object.values(signers).map((s) => s.jwk) }) });
  const CONTROLS = /[\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff]/;
  try {
    const { page, close } = await openInspector();
    const zwsp = await check(page, { token: signers.zwsp.sign(claims({ iss: server.origin })) });
    assertBanner(zwsp, 'valid');
    assert.match(zwsp.summary, /^The signature verifies with key “key-1\\u200B” \(ES256\) of /);
    assert.equal(zwsp.matched.kid, kids.zwsp, 'data-kid keeps the kid as it is');
    const cards = await page.$$eval('.key', (elements) =>
      elements.map((element) => {
        const kid = element.querySelector('.kid');
        return { kid: element.dataset.kid, text: kid.textContent, width: Math.round(kid.getBoundingClientRect().width), note: element.querySelector('.key-note')?.textContent ?? null, isolated: getComputedStyle(kid).unicodeBidi };
      }),
    );
    const card = (name) => cards.find((c) => c.kid === kids[name]);
    assert.equal(card('plain').text, 'key-1');
    assert.equal(card('zwsp').text, 'key-1\\u200B');
    assert.equal(card('rlo').text, '\\u202E1-yek');
    assert.equal(card('cyrillic').text, kids.cyrillic, 'a lookalike letter is shown as it is, marked');
    assert.equal(card('plain').note, null);
    assert.equal(card('cyrillic').note, 'contains non-ASCII characters');
    assert.ok(card('zwsp').width > card('plain').width + 10, JSON.stringify(cards));
    assert.equal(await page.$eval(`.key[data-kid="${kids.cyrillic}"] .kid`, (kid) => [...kid.querySelectorAll('.non-ascii')].map((m) => m.textContent).join('')), '\u0435');
    assert.ok(cards.every((c) => c.isolated === 'isolate' && !CONTROLS.test(c.text)), JSON.stringify(cards));

    // The kid that tries to write the verdict's sentence: isolated, its controls written out, shortened.
    const spoof = await check(page, { token: signers.spoof.sign(claims({ iss: server.origin })) });
    assertBanner(spoof, 'valid');
    assert.doesNotMatch(spoof.summary, CONTROLS);
    // Shortened in the sentence (its first 35 characters and last 12), whole in the key card.
    assert.equal(spoof.summary, `The signature verifies with key “main” (ES256) of https://login.exam… accepted.\\u2029\\u202E” (ES256) of ${server.origin}${JWKS_PATH}, and the claims are accepted: expires in 4 min.`);
    assert.equal(spoof.matched.kid, kids.spoof);
    assert.equal(await page.textContent('#matched-key .kid'), kids.spoof.replace('\u2029', '\\u2029').replace('\u202e', '\\u202E'), 'the key card shows it whole');
    // As drawn: the page's words, the kid, the JWKS URI, then the rest of the sentence, in reading
    // order (found by their text, whatever the markup).
    const drawn = await page.evaluate((uri) => {
      const summary = document.querySelector('.verdict-summary');
      const nodes = [];
      const walker = document.createTreeWalker(summary, NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) nodes.push(walker.currentNode);
      const text = nodes.map((n) => n.data).join('');
      // The rects of the last occurrence of `needle`; where it starts (first box) and ends (last: it may wrap).
      const boxOf = (needle) => {
        const at = text.lastIndexOf(needle);
        const range = document.createRange();
        let offset = 0;
        for (const node of nodes) {
          if (at >= offset && at <= offset + node.data.length) range.setStart(node, at - offset);
          if (at + needle.length >= offset && at + needle.length <= offset + node.data.length) {
            range.setEnd(node, at + needle.length - offset);
            break;
          }
          offset += node.data.length;
        }
        const rects = [...range.getClientRects()].filter((r) => r.width > 0);
        const [first, last] = [rects[0], rects[rects.length - 1]].map((r) => ({ top: Math.round(r.top), left: Math.round(r.left), right: Math.round(r.right), bottom: Math.round(r.bottom) }));
        return { first, last };
      };
      const kid = summary.querySelector('bdi');
      return {
        words: boxOf('The signature verifies with key'),
        kid: boxOf('main'),
        uri: boxOf(uri),
        tail: boxOf('the claims are accepted: expires in 4 min.'),
        isolated: kid ? getComputedStyle(kid).unicodeBidi : null,
      };
    }, server.origin + JWKS_PATH);
    assert.equal(drawn.isolated, 'isolate');
    // b starts after a ends: on a later line, or on a's last line to its right.
    const before = (a, b) => b.first.top >= a.last.bottom - 2 || (Math.abs(a.last.top - b.first.top) <= 2 && a.last.right <= b.first.left + 1);
    assert.ok(before(drawn.words, drawn.kid) && before(drawn.kid, drawn.uri) && before(drawn.uri, drawn.tail), JSON.stringify(drawn));
    await page.locator('#verdict').screenshot({ path: `${screenshotDir}inspector-rlo-verdict.png` });
    await screenshot(page, 'lookalike-kids');
    await close();
  } finally {
    await server.close();
  }
});

test('Clear and a malformed token leave nothing of the previous token in the page', TEST, async () => {
  const { page, close } = await openInspector();
  const emptied = () =>
    page.evaluate(() => Object.fromEntries(['findings', 'times', 'header-json', 'payload-json', 'key-source', 'matched-key', 'other-keys'].map((id) => [id, document.getElementById(id).textContent])));
  const nothing = { findings: '', times: '', 'header-json': '', 'payload-json': '', 'key-source': '', 'matched-key': '', 'other-keys': '' };
  const token = signer.sign(claims({ sub: 'previous-subject' }));
  assertBanner(await check(page, { token }), 'valid');
  assert.match((await emptied())['payload-json'], /previous-subject/);
  await page.click('#clear');
  assert.deepEqual(await emptied(), nothing);

  assertBanner(await check(page, { token }), 'valid');
  const garbage = await check(page, { token: 'eyJhbGciOiJFUzI1NiJ9.not json.at all' });
  assertRefused(garbage, 'ERR_JWT_MALFORMED');
  assert.deepEqual(await emptied(), nothing);
  assert.equal(await page.evaluate(() => document.body.textContent.includes('previous-subject')), false);
  await close();
});

test('by keyboard alone: Tab reaches the token first, Ctrl+Enter checks, then the fields in order, focus visible', TEST, async () => {
  const { page, close } = await openInspector();
  const token = signer.sign(claims());
  tokensUsed.add(token);
  const start = { url: page.url(), history: await page.evaluate(() => history.length) };
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'token');
  await page.keyboard.insertText(token); // as a paste would
  await page.keyboard.press('Control+Enter');
  const shown = await waitForVerdict(page);
  assertBanner(shown, 'valid');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'token', 'focus stays in the textarea');
  await assertNothingKept(page, start, token);

  const order = [];
  for (let i = 0; i < 5; i++) {
    await page.keyboard.press('Tab');
    order.push(
      await page.evaluate(() => {
        const element = document.activeElement;
        const style = getComputedStyle(element);
        return { id: element.id, outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2 };
      }),
    );
  }
  assert.deepEqual(order, ['jwks-uri', 'issuer', 'audience', 'check', 'clear'].map((id) => ({ id, outline: true })));
  // Enter on the focused Clear button clears the token and the results.
  await page.keyboard.press('Enter');
  assert.deepEqual(await page.evaluate(() => ({ token: document.getElementById('token').value, verdict: document.getElementById('verdict').dataset.verdict, focus: document.activeElement.id })), {
    token: '',
    verdict: 'idle',
    focus: 'token',
  });
  await close();
});

test('on a phone (390x844): one column, long values wrap, nothing overflows sideways', TEST, async () => {
  const { page, close } = await openInspector({ viewport: PHONE, mobile: true });
  const longValue = b64url(Buffer.alloc(600, 7));
  const shown = await check(page, { token: signer.sign(claims({ blob: longValue, aud: ['api://inspector-tests', `https://a-very-long-audience-name.example/${'segment/'.repeat(12)}`] })) });
  assertBanner(shown, 'valid');
  const layout = await page.evaluate(() => {
    const [tokenPanel, keyPanel] = document.querySelectorAll('#details > .panel');
    const a = tokenPanel.getBoundingClientRect();
    const b = keyPanel.getBoundingClientRect();
    return { scrollWidth: document.scrollingElement.scrollWidth, innerWidth, stacked: b.top >= a.bottom && a.left === b.left };
  });
  assert.ok(layout.scrollWidth <= layout.innerWidth, `scrollWidth ${layout.scrollWidth} > innerWidth ${layout.innerWidth}`);
  assert.equal(layout.stacked, true, 'the token and key panels are one column');
  await screenshot(page, 'phone');
  await screenshot(page, 'phone-top', { fullPage: false });
  await page.locator('#payload-json').scrollIntoViewIfNeeded();
  await screenshot(page, 'phone-payload', { fullPage: false });
  await page.locator('#key-title').evaluate((element) => element.scrollIntoView());
  await screenshot(page, 'phone-keys', { fullPage: false });
  await close();
});

test('served from a sub-directory of another static host, the page works as it is (relative URLs only)', TEST, async () => {
  // build/ served at the root of another origin: the page is at /inspector/, the package below it.
  const host = await serveStatic(`${root}build/`, { port: 0 });
  try {
    const { page, close } = await openInspector({ url: `${host.origin}/inspector/` });
    const shown = await check(page, { token: signer.sign(claims()) });
    assertBanner(shown, 'valid');
    const wasm = requests.filter((r) => r.url.startsWith(host.origin)).map((r) => new URL(r.url).pathname);
    assert.ok(wasm.includes('/inspector/jwks-cache/wasm/jwks_cache_bg.wasm'), wasm.join('\n'));
    await close();
  } finally {
    await host.close();
  }
});

test('every request was the page\'s own files, a discovery document or a key set; no token in any URL or log', TEST, async () => {
  await sleep(200); // events of the last test may still be on their way
  assert.ok(requests.length > 20, `requests recorded: ${requests.length}`);
  const issuers = [issuer, noCors, jwksNoCors].map((s) => s.origin);
  const unexpected = requests.filter(({ url, method }) => {
    const { origin, pathname } = new URL(url);
    if (method !== 'GET') return true;
    // The page's own files: only files of build/inspector/ (on the other static host, below /inspector/).
    const ownFile = (relative) => {
      try {
        return statSync(buildDir + (relative === '' ? 'index.html' : decodeURIComponent(relative))).isFile();
      } catch {
        return false;
      }
    };
    if (origin === site.origin) return !ownFile(pathname.slice(1));
    if (pathname.startsWith('/inspector/')) return !ownFile(pathname.slice('/inspector/'.length)); // the other static host
    if (issuers.includes(origin) || new URL(url).port === String(closedPort)) return ![DISCOVERY_PATH, JWKS_PATH].includes(pathname);
    if (testServers.has(origin)) return !(pathname.endsWith(DISCOVERY_PATH) || pathname === JWKS_PATH);
    return true;
  });
  assert.deepEqual(unexpected, []);
  for (const token of tokensUsed) {
    const [, payload, signature] = token.split('.');
    for (const part of [token, payload, signature].filter((p) => p.length > 8)) {
      assert.deepEqual(requests.filter((r) => r.url.includes(part) || (r.postData ?? '').includes(part)), [], 'a token part in a request');
      assert.deepEqual(consoleMessages.filter((m) => m.text.includes(part)), [], 'a token part in the console');
    }
  }
});

test('the pages logged no unexpected console errors or warnings and threw no page errors', TEST, async () => {
  const problems = consoleMessages.filter((m) => m.kind !== 'console.log' && m.kind !== 'console.info' && m.kind !== 'console.debug');
  const unexpected = problems.filter((p) => !tolerated.some((t) => t.text.test(p.text) && (t.url === undefined || t.url === p.url)));
  assert.deepEqual(unexpected, []);
  // The CORS cases did provoke the browser's own messages: the collector sees them.
  assert.ok(problems.some((p) => /blocked by CORS policy/.test(p.text)), 'the collector saw the CORS refusals');
});
