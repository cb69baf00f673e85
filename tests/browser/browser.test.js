// getKey in Debian's Chromium (driven by playwright-core): a page from one 127.0.0.1 origin
// imports the package through an import map and reads the JWKS of an issuer on another origin.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const pkg = fileURLToPath(new URL('../../pkg', import.meta.url));

let site; // serves the page and the package
let issuer; // another origin: its JWKS is read cross-origin (CORS)
let browser;
let page;
const pageProblems = [];

before(async () => {
  site = await startJwksServer({ files: { '/pkg/': pkg, '/page/': here } });
  issuer = await startJwksServer();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']  // playwright gives it a new empty profile,
  });
  page = await browser.newPage();
  page.on('pageerror', (error) => pageProblems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') pageProblems.push(`${message.type()}: ${message.text()}`);
  });
  await page.goto(`${site.origin}/page/page.html`);
  await page.waitForFunction(() => window.harnessReady === true, null, { timeout: 10_000 });
});

after(async () => {
  await browser?.close();
  await site?.close();
  await issuer?.close();
});

beforeEach(async () => {
  issuer.behave('ok');
  issuer.setKeys([makePublicJwk('EC', 'ec-1'), makePublicJwk('OKP', 'ed-1')]);
  issuer.resetCounts();
  await page.evaluate(() => window.harness.create('main'));
});

const getKeys = (calls, name = 'main') => page.evaluate(([n, c]) => window.harness.getKeys(n, c), [name, calls]);

test('the page is a secure context on another origin than the issuer', async () => {
  assert.notEqual(site.origin, issuer.origin);
  assert.equal(await page.evaluate(() => window.isSecureContext), true);
});

test('getKey returns the served JWK, frozen; an unknown kid refetches once and answers null', async () => {
  const [ec, ed] = await getKeys([[issuer.jwksUri, 'ec-1'], [issuer.jwksUri, 'ed-1']]);
  assert.deepEqual(ec.jwk, issuer.keys[0]);
  assert.deepEqual(ed.jwk, issuer.keys[1]);
  assert.equal(ec.frozen, true);
  assert.equal(issuer.jwksRequests, 1);
  const [missing] = await getKeys([[issuer.jwksUri, 'nope']]);
  assert.equal(missing.jwk, null);
  assert.equal(issuer.jwksRequests, 2);
});

test('100 concurrent calls on a cold cache make one request and share one object', async () => {
  issuer.behave('slow', 100);
  const answers = await getKeys(Array.from({ length: 100 }, () => [issuer.jwksUri, 'ec-1']));
  assert.equal(issuer.jwksRequests, 1);
  assert.ok(answers.every((a) => a.shared && a.frozen), JSON.stringify(answers[1]));
  assert.deepEqual(answers[99].jwk, issuer.keys[0]);
});

test('a rotated key is picked up on the first lookup that names it, whatever the HTTP cache holds', async () => {
  // The issuer sends Cache-Control: max-age=600; the refetch must still reach it.
  await getKeys([[issuer.jwksUri, 'ec-1']]);
  const rotated = issuer.rotate();
  const [answer] = await getKeys([[issuer.jwksUri, rotated]]);
  assert.equal(answer.jwk.kid, rotated);
  assert.equal(issuer.jwksRequests, 2);
});

test('errors keep their classes, codes and messages; a good set survives failed refreshes', async () => {
  await getKeys([[issuer.jwksUri, 'ec-1']]);
  issuer.behave('status', 500);
  const [failed] = await getKeys([[issuer.jwksUri, 'rotated']]);
  assert.deepEqual(failed.error, {
    name: 'JwksFetchError',
    code: 'ERR_JWKS_HTTP_STATUS',
    message: 'Failed to fetch JWKS (500)',
    status: 500,
    classes: ['JwksCacheError', 'JwksFetchError'],
  });
  issuer.behave('garbage');
  const [garbage] = await getKeys([[issuer.jwksUri, 'rotated']]);
  assert.equal(garbage.error.code, 'ERR_JWKS_INVALID_JSON');
  assert.deepEqual(garbage.error.classes, ['JwksCacheError', 'JwksResponseError']);
  const [cached] = await getKeys([[issuer.jwksUri, 'ec-1']]);
  assert.deepEqual(cached.jwk, issuer.keys[0], 'still served from the cache');

  const [noUri, noKid] = await getKeys([[null, 'ec-1'], [issuer.jwksUri, null]]);
  assert.deepEqual([noUri.error.code, noUri.error.message], ['ERR_JWKS_URI_MISSING', 'JWKS URI missing']);
  assert.deepEqual([noKid.error.code, noKid.error.message], ['ERR_KID_MISSING', 'Token missing key id']);
  assert.deepEqual(noKid.error.classes, ['JwksCacheError', 'JwksArgumentError']);
});

test('clear() empties the cache', async () => {
  await getKeys([[issuer.jwksUri, 'ec-1']]);
  await page.evaluate(() => window.harness.clear('main'));
  await getKeys([[issuer.jwksUri, 'ec-1']]);
  assert.equal(issuer.jwksRequests, 2);
});

test('the page logged no errors or warnings (wasm MIME type, streaming compile, CORS)', () => {
  const relevant = pageProblems.filter((p) => !/status of 500/.test(p)); // the 500 test's own request
  assert.deepEqual(relevant, []);
});
