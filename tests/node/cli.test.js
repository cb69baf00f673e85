// The command line (pkg/cli.js, the package's "bin"), run as users run it: a child Node process
// with arguments and standard input, its exit status, stdout and stderr, against key sets served
// on 127.0.0.1 by this process (so the children are run asynchronously: the servers' event loop
// must keep running) and a real OpenID provider for discovery.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { explainError } from 'jwks-cache';
import { startJwksServer } from '../support/jwks-server.js';
import { startOidcIssuer, DEFAULT_AUDIENCE } from '../support/oidc-issuer.js';
import { makeSigner, nowSec, b64url } from '../support/signer.js';

const CLI = fileURLToPath(new URL('../../pkg/cli.js', import.meta.url));
const VERSION = JSON.parse(readFileSync(new URL('../../pkg/package.json', import.meta.url), 'utf8')).version;
const ESC = '\x1b';

/** The environment of a run: this one without colour settings, plus `env`. */
function childEnv(env) {
  const base = { ...process.env };
  delete base.FORCE_COLOR;
  delete base.NO_COLOR;
  return { ...base, ...env };
}

/** Runs the command line: { code, stdout, stderr }. */
function cli(args, { input = '', env = {} } = {}) {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env: childEnv(env), encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? error.code : 0, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Asserts the exit status, and that no stack trace was printed. */
function assertExit(result, code) {
  assert.equal(result.code, code, `exit status\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.doesNotMatch(result.stdout + result.stderr, /\n\s+at .*:\d+:\d+/, 'no stack trace');
}

const signer = makeSigner('ES256', { kid: 'k1' });
const edSigner = makeSigner('EdDSA', { kid: 'ed-1' });
/** A 1024-bit RSA public key (too small: the cache ignores it). Fixed: no RSA is generated here. */
const RSA_1024 = {
  kty: 'RSA', kid: 'rsa-1024', alg: 'RS256', use: 'sig', e: 'AQAB',
  n: '0utlz3kWNsIaBVReExWGsQ5cluyqZdz0KQ_bUNxQ5zCpvrgYU2g5e9q_nm2ip3JbBuMl6ivxNp8Ztye_x7wbOZHOLDqOCzwExX5HSZV8O0XFGDCcs3MMvO7DxukMgJWpHtdTFglGdOuNxb057KqsMsafO_r9R8j-ly_zyfo4-4E',
};
const HOSTILE_KID = 'evil\x1b]0;pwned\x07\u009b2J\u202e';

let issuer; // the key set the tokens verify with
let odd; // a set of entries the cache keeps and ignores
let down; // answers 503
let hostile; // a kid with terminal escape sequences
let op; // a real OpenID provider

before(async () => {
  [issuer, odd, down, hostile, op] = await Promise.all([startJwksServer(), startJwksServer(), startJwksServer(), startJwksServer(), startOidcIssuer()]);
  issuer.setKeys([signer.jwk, edSigner.jwk]);
  odd.setKeys([
    signer.jwk,
    { ...makeSigner('ES256', { kid: 'enc-1' }).jwk, alg: 'ECDH-ES', use: 'enc' },
    { kty: 'oct', kid: 'shared', k: 'c2VjcmV0' },
    RSA_1024,
    makeSigner('EdDSA', { kid: null, jwkMembers: {} }).jwk,
    { ...edSigner.jwk, kid: '' },
  ]);
  down.behave('status', 503);
  hostile.setKeys([{ ...signer.jwk, kid: HOSTILE_KID }]);
});
after(() => Promise.all([issuer.close(), odd.close(), down.close(), hostile.close(), op.close()]));

/** A token of `signer` for `issuer`: alice, audience "api", expiring in 4 minutes, issued a minute ago. */
const claims = (extra = {}) => ({ iss: issuer.origin, sub: 'alice', aud: 'api', iat: nowSec() - 60, exp: nowSec() + 240, ...extra });
const goodToken = () => signer.sign(claims());
const algNoneToken = () => `${b64url(JSON.stringify({ alg: 'none', jku: 'https://evil.example/jwks' }))}.${b64url(JSON.stringify({ sub: 'mallory', exp: nowSec() + 600 }))}.`;

test('inspect: header, payload, times in words, findings, and that nothing was verified', async () => {
  const result = await cli(['inspect', goodToken()]);
  assertExit(result, 0);
  assert.equal(result.stderr, '');
  const { stdout } = result;
  assert.match(stdout, /^Header\n\{\n {2}"alg": "ES256",\n {2}"kid": "k1"\n\}\nPayload\n/);
  assert.match(stdout, /"sub": "alice"/);
  assert.match(stdout, /\n {2}exp {2}\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}expires in 4 min\n/);
  assert.match(stdout, /\n {2}iat {2}\S+ {2}issued 1 min ago\n/);
  assert.match(stdout, /\nFindings\n {2}none\n/);
  assert.match(stdout, /NOT VERIFIED/);

  const expired = await cli(['inspect', signer.sign(claims({ iat: nowSec() - 3 * 3600, exp: nowSec() - 7200 }))]);
  assertExit(expired, 0);
  assert.match(expired.stdout, /exp {2}\S+ {2}expired 2 h ago/);
  assert.match(expired.stdout, /refused {2}ERR_JWT_EXPIRED: JWT expired/);

  // A time claim that is not a NumericDate shows its value, in the same columns.
  const notDates = await cli(['inspect', signer.sign(claims({ exp: 'tomorrow', iat: nowSec() + 3600 }))]);
  assertExit(notDates, 0);
  assert.match(notDates.stdout, /\nTimes\n {2}exp {2}"tomorrow" {12}not a NumericDate .*\n {2}iat {2}\S{20} {2}issued in the future \(in 1 h\)/);
  assert.match(notDates.stdout, /refused {2}ERR_JWT_CLAIM_INVALID: /);
});

test('inspect --json: one document { header, payload, times, findings }', async () => {
  const token = signer.sign(claims({ exp: nowSec() + 240 }));
  const result = await cli(['inspect', token, '--json']);
  assertExit(result, 0);
  const document = JSON.parse(result.stdout);
  assert.deepEqual(Object.keys(document), ['header', 'payload', 'times', 'findings']);
  assert.deepEqual(document.header, { alg: 'ES256', kid: 'k1' });
  assert.equal(document.payload.sub, 'alice');
  assert.deepEqual(document.times.map((t) => [t.claim, t.text, t.problem]), [['exp', 'expires in 4 min', false], ['iat', 'issued 1 min ago', false]]);
  assert.deepEqual(document.findings, []);
});

test('inspect -: the token from standard input, trimmed, "Bearer " dropped', async () => {
  const token = goodToken();
  for (const input of [token, `\n  ${token}  \n`, `Bearer ${token}\n`, `bearer   ${token}`]) {
    const result = await cli(['inspect', '-', '--json'], { input });
    assertExit(result, 0);
    assert.equal(JSON.parse(result.stdout).payload.sub, 'alice', JSON.stringify(input));
  }
  const empty = await cli(['inspect', '-'], { input: ' \n' });
  assertExit(empty, 2);
  assert.match(empty.stderr, /no token on standard input/);
});

test('inspect: a malformed token is exit 1, ERR_JWT_MALFORMED and what to fix, on stderr', async () => {
  const result = await cli(['inspect', 'not.a-token']);
  assertExit(result, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^Token unreadable: ERR_JWT_MALFORMED\n {2}JWT malformed: /);
  assert.ok(result.stderr.includes(explainError({ code: 'ERR_JWT_MALFORMED' })));

  const json = await cli(['inspect', 'not.a-token', '--json']);
  assertExit(json, 1);
  const { error } = JSON.parse(json.stdout);
  assert.equal(error.code, 'ERR_JWT_MALFORMED');
  assert.equal(error.source, 'token');
  assert.equal(error.fix, explainError({ code: 'ERR_JWT_MALFORMED' }));
});

test('inspect: alg "none" is a refusal; no kid, a jku and no iss are notes', async () => {
  const result = await cli(['inspect', algNoneToken()]);
  assertExit(result, 0);
  assert.match(result.stdout, /\nFindings\n {2}refused {2}ERR_JWS_ALG_NOT_ALLOWED: JWS algorithm not allowed: "none"\n/);
  assert.match(result.stdout, /\n {2}note {5}HEADER_KEY_IGNORED: the header's "jku" is ignored/);
  let { findings } = JSON.parse((await cli(['inspect', algNoneToken(), '--json'])).stdout);
  assert.deepEqual(findings.map((f) => [f.code, f.refused]), [['ERR_JWS_ALG_NOT_ALLOWED', true], ['HEADER_KEY_IGNORED', false], ['ISS_MISSING', false]]);

  const kidless = makeSigner('ES256', { kid: null }).sign({ sub: 'a', exp: nowSec() + 60 }, { header: { jwk: signer.jwk } });
  const notes = await cli(['inspect', kidless]);
  assertExit(notes, 0);
  assert.match(notes.stdout, /\nFindings\n {2}note {5}KID_MISSING: .*ES256/);
  ({ findings } = JSON.parse((await cli(['inspect', kidless, '--json'])).stdout));
  assert.deepEqual(findings.map((f) => [f.code, f.refused]), [['KID_MISSING', false], ['HEADER_KEY_IGNORED', false], ['ISS_MISSING', false]]);
});

test('verify: a valid token is exit 0 with its payload; --json says where the keys came from', async () => {
  const token = goodToken();
  const result = await cli(['verify', token, '--jwks-uri', issuer.jwksUri, '--audience', 'api']);
  assertExit(result, 0);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, /^Valid token\n {2}signed {4}ES256, key "k1" of http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json\n/);
  assert.match(result.stdout, /\n {2}audience {2}"api", checked\n/);
  assert.match(result.stdout, /\n {2}issuer {4}"http:\/\/127\.0\.0\.1:\d+", not checked \(give --issuer\)\n/);
  assert.match(result.stdout, /\n {2}exp {7}\S+ {2}expires in 4 min\n/);
  assert.deepEqual(JSON.parse(result.stdout.slice(result.stdout.indexOf('Payload\n') + 8)), JSON.parse(Buffer.from(token.split('.')[1], 'base64url')));

  const json = await cli(['verify', token, '--jwks-uri', issuer.jwksUri, '--issuer', issuer.origin, '--json']);
  assertExit(json, 0);
  const document = JSON.parse(json.stdout);
  assert.equal(document.valid, true);
  assert.equal(document.payload.sub, 'alice');
  assert.deepEqual(document.header, { alg: 'ES256', kid: 'k1' });
  assert.deepEqual(document.key, signer.jwk);
  assert.deepEqual([document.jwksUri, document.issuer, document.keysFrom], [issuer.jwksUri, issuer.origin, 'jwks-uri']);
});

test('verify: a refused token is exit 1 with its code and what to fix', async () => {
  const stranger = makeSigner('ES256', { kid: 'k1' }); // same kid, another key
  const cases = [
    ['expired', signer.sign(claims({ iat: nowSec() - 3 * 3600, exp: nowSec() - 7200 })), [], 'ERR_JWT_EXPIRED', /JWT expired[^]*\n {2}exp {2}\S+ {2}expired 2 h ago\n/],
    ['wrong audience', goodToken(), ['--audience', 'other-api'], 'ERR_JWT_CLAIM_INVALID', /"aud"[^]*\n {2}The token's "aud": "api"\n/],
    ['wrong issuer', goodToken(), ['--issuer', 'https://other.example'], 'ERR_JWT_CLAIM_INVALID', /"iss"[^]*\n {2}The token's "iss": "http:\/\/127\.0\.0\.1:\d+"\n/],
    ['no exp', signer.sign({ iss: issuer.origin, sub: 'a' }), [], 'ERR_JWT_CLAIM_INVALID', /\n {2}The token has no "exp"\n/],
    ['unknown kid', makeSigner('ES256', { kid: 'other' }).sign(claims()), [], 'ERR_JWKS_NO_MATCHING_KEY', /No entry of the set has kid "other"; the kids it can use: "k1", "ed-1"/],
    ['bad signature', stranger.sign(claims()), [], 'ERR_JWS_SIGNATURE_INVALID', /Key set: http:\/\/127\.0\.0\.1/],
    ['alg none', algNoneToken(), [], 'ERR_JWS_ALG_NOT_ALLOWED', /"none"/],
  ];
  await Promise.all(cases.map(async ([name, token, options, code, detail]) => {
    const result = await cli(['verify', token, '--jwks-uri', issuer.jwksUri, ...options]);
    assertExit(result, 1);
    assert.equal(result.stdout, '', name);
    assert.ok(result.stderr.startsWith(`Token refused: ${code}\n`), `${name}: ${result.stderr}`);
    assert.match(result.stderr, detail, name);
    assert.ok(result.stderr.includes(`What to fix: ${explainError({ code })}`), name);

    const json = await cli(['verify', token, '--jwks-uri', issuer.jwksUri, ...options, '--json']);
    assertExit(json, 1);
    const document = JSON.parse(json.stdout);
    assert.equal(document.valid, false, name);
    assert.deepEqual([document.error.source, document.error.code], ['token', code], name);
  }));
});

test('verify: the key set failing is exit 1 and says it is the key set, not the token', async () => {
  const result = await cli(['verify', goodToken(), '--jwks-uri', down.jwksUri]);
  assertExit(result, 1);
  assert.match(result.stderr, /^Key set failed, not the token \(it could not be checked\): ERR_JWKS_HTTP_STATUS\n/);
  assert.match(result.stderr, /Failed to fetch JWKS \(503\)/);
  assert.doesNotMatch(result.stderr, /Token refused/);

  // A token that verification refuses anyway is said to be.
  const none = await cli(['verify', algNoneToken(), '--jwks-uri', down.jwksUri]);
  assertExit(none, 1);
  assert.match(none.stderr, /The token would be refused anyway: ERR_JWS_ALG_NOT_ALLOWED/);

  const closed = await startJwksServer();
  await closed.close();
  const json = await cli(['verify', goodToken(), '--jwks-uri', closed.jwksUri, '--json']);
  assertExit(json, 1);
  const { valid, error } = JSON.parse(json.stdout);
  assert.equal(valid, false);
  assert.deepEqual([error.source, error.name, error.code], ['keySet', 'JwksFetchError', 'ERR_JWKS_NETWORK']);
});

test('verify: keys by OpenID discovery, from --issuer or from the token\'s own iss (and it says so)', async () => {
  const token = await op.getToken();
  const byIssuer = await cli(['verify', token, '--issuer', op.issuer, '--audience', DEFAULT_AUDIENCE, '--json']);
  assertExit(byIssuer, 0);
  const document = JSON.parse(byIssuer.stdout);
  assert.deepEqual([document.valid, document.keysFrom, document.issuer, document.jwksUri], [true, 'issuer', op.issuer, op.jwksUri]);
  assert.equal(byIssuer.stderr, '');

  // The token chooses where to look: a plain-http iss (this machine's) is followed only when asked.
  const refused = await cli(['verify', token]);
  assertExit(refused, 2);
  assert.match(refused.stderr, /the token's own iss "http:\/\/127\.0\.0\.1:\d+" is not https: follow it only with --issuer \(or --allow-insecure-http\)/);
  assert.equal(refused.stdout, '');

  const byIss = await cli(['verify', token, '--allow-insecure-http']);
  assertExit(byIss, 0);
  assert.match(byIss.stderr, /^No --jwks-uri or --issuer: finding the keys by OpenID discovery from the token's own iss "http:\/\/127\.0\.0\.1:\d+"\.\n$/);
  assert.match(byIss.stdout, /issuer {4}"http:\/\/127\.0\.0\.1:\d+", taken from the token itself: anyone can sign a token naming their own issuer; give --issuer\n/);
  assert.equal(JSON.parse((await cli(['verify', token, '--json', '--allow-insecure-http'])).stdout).keysFrom, 'token-iss');

  // No iss, no --jwks-uri, no --issuer: nothing to find the keys by.
  const noIss = await cli(['verify', signer.sign({ sub: 'a', exp: nowSec() + 60 })]);
  assertExit(noIss, 2);
  assert.match(noIss.stderr, /the token has no "iss" to find its keys by: give --jwks-uri or --issuer/);
});

test('keys: a table of the entries, the ignored ones with the reason', async () => {
  const result = await cli(['keys', odd.jwksUri]);
  assertExit(result, 0);
  const lines = result.stdout.split('\n');
  assert.match(lines[0], /^Key set http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json: 6 entries, 2 usable$/);
  const rows = lines.slice(1, 8).map((line) => line.trim().split(/ {2,}/));
  assert.deepEqual(rows, [
    ['#', 'kid', 'kty', 'alg', 'size', 'use', 'verifies'],
    ['0', 'k1', 'EC', 'ES256', 'P-256', '-', 'ES256'],
    ['1', 'enc-1', 'EC', 'ECDH-ES', 'P-256', 'enc', 'ignored'],
    ['2', 'shared', 'oct', '-', '-', '-', 'ignored'],
    ['3', 'rsa-1024', 'RSA', 'RS256', '1024 bits', 'sig', 'ignored'],
    ['4', '(none)', 'OKP', '-', 'Ed25519', '-', 'EdDSA'],
    ['5', '""', 'OKP', 'EdDSA', 'Ed25519', '-', 'ignored'],
  ]);
  assert.equal(lines[8], 'Ignored by the cache');
  assert.match(lines[9], /^ {2}#1 enc-1: not for signatures: "use" is not "sig"$/);
  assert.match(lines[10], /^ {2}#2 shared: a shared secret/);
  assert.match(lines[11], /^ {2}#3 rsa-1024: refused: .*2048/);
  assert.match(lines[12], /^ {2}#5 "": "kid" is empty$/);

  const json = await cli(['keys', '--jwks-uri', odd.jwksUri, '--json']);
  assertExit(json, 0);
  const document = JSON.parse(json.stdout);
  assert.equal(document.isJwkSet, true);
  assert.deepEqual(document.entries.map((e) => [e.kid, e.bits, e.algorithms, e.ignored === null]), [
    ['k1', null, ['ES256'], true], ['enc-1', null, [], false], ['shared', null, [], false],
    ['rsa-1024', 1024, [], false], [null, null, ['EdDSA'], true], ['', null, [], false],
  ]);
});

test('keys: an issuer by --issuer; a URL that is not a JWK Set says how to ask for an issuer', async () => {
  const result = await cli(['keys', '--issuer', op.issuer]);
  assertExit(result, 0);
  const count = op.kids.length;
  assert.ok(result.stdout.startsWith(`Key set ${op.jwksUri} (issuer "${op.issuer}"): ${count} ${count === 1 ? 'entry' : 'entries'}, ${count} usable\n`), result.stdout);
  for (const kid of op.kids) assert.match(result.stdout, new RegExp(`\\n {2}\\d+ +${kid} +EC +ES256 +P-256 +sig +ES256\\n`));

  const discoveryDocument = await cli(['keys', op.discoveryUri]);
  assertExit(discoveryDocument, 1);
  assert.match(discoveryDocument.stderr, /^Not a JWK Set: .* answered JSON without a "keys" array/);
  assert.ok(discoveryDocument.stderr.includes(`jwks-cache keys --issuer ${op.discoveryUri}`));
  const notSetJson = await cli(['keys', op.discoveryUri, '--json']);
  assertExit(notSetJson, 1);
  assert.deepEqual(JSON.parse(notSetJson.stdout), { jwksUri: op.discoveryUri, issuer: null, isJwkSet: false, entries: [] });

  down.behave('garbage');
  try {
    const page = await cli(['keys', down.jwksUri]);
    assertExit(page, 1);
    assert.match(page.stderr, /^Key set failed: ERR_JWKS_INVALID_JSON\n/);
  } finally {
    down.behave('status', 503);
  }
});

test('http: of another host than loopback is refused (exit 2) unless --allow-insecure-http', async () => {
  // An IPv4-mapped address is not "loopback" to the cache, yet reaches the server on 127.0.0.1.
  const uri = issuer.jwksUri.replace('127.0.0.1', '[::ffff:127.0.0.1]');
  const refused = await cli(['keys', uri]);
  assertExit(refused, 2);
  assert.match(refused.stderr, /^Argument refused: ERR_JWKS_URI_INVALID\n/);
  assert.match(refused.stderr, /needs --allow-insecure-http/);
  const allowed = await cli(['keys', uri, '--allow-insecure-http', '--timeout-ms', '3000']);
  assertExit(allowed, 0);
  assert.match(allowed.stdout, /^Key set .*: 2 entries, 2 usable\n/);
});

test('colour: none when piped, with FORCE_COLOR=0 or --json; ANSI with FORCE_COLOR=1', async () => {
  const token = algNoneToken();
  const FORCE = { FORCE_COLOR: '1' };
  const runs = Object.fromEntries(await Promise.all(Object.entries({
    piped: [['inspect', token]],
    noColor: [['inspect', token], { env: { NO_COLOR: '1' } }],
    forced: [['inspect', token], { env: FORCE }],
    forcedOff: [['inspect', token], { env: { FORCE_COLOR: '0' } }],
    forcedJson: [['inspect', token, '--json'], { env: FORCE }],
    pipedFailure: [['inspect', 'x.y']],
    forcedFailure: [['inspect', 'x.y'], { env: FORCE }],
    forcedKeys: [['keys', odd.jwksUri], { env: FORCE }],
    forcedJsonFailure: [['verify', goodToken(), '--jwks-uri', down.jwksUri, '--json'], { env: FORCE }],
  }).map(async ([name, args]) => [name, await cli(...args)])));
  for (const name of ['piped', 'noColor', 'forcedOff', 'forcedJson', 'pipedFailure', 'forcedJsonFailure']) {
    assert.ok(!(runs[name].stdout + runs[name].stderr).includes(ESC), name);
  }
  assert.match(runs.forced.stdout, /\x1b\[1mHeader\x1b\[0m/);
  assert.match(runs.forced.stdout, /\x1b\[31mrefused\x1b\[0m/);
  assert.match(runs.forcedFailure.stderr, /\x1b\[31m\x1b\[1mToken unreadable\x1b\[0m\x1b\[0m/);
  assert.match(runs.forcedKeys.stdout, /\n {2}\x1b\[33m1 +enc-1 .*ignored\x1b\[0m\n/);
  // Without colours, the text is the same.
  assert.equal(runs.forced.stdout.replace(/\x1b\[\d+m/g, ''), runs.piped.stdout);
});

test('on a terminal (a pseudo-terminal by script(1)): ANSI colours, unless NO_COLOR', async (t) => {
  const script = (env) => new Promise((resolve) => {
    const command = `'${process.execPath}' '${CLI}' inspect ${algNoneToken()}`;
    execFile('script', ['-qec', command, '/dev/null'], { env: childEnv(env), encoding: 'utf8', timeout: 30_000 }, (error, stdout) => resolve({ error, stdout })).stdin.end();
  });
  const plain = await script({});
  if (plain.error?.code === 'ENOENT') return t.skip('script(1) is not installed');
  assert.match(plain.stdout, /\x1b\[1mHeader\x1b\[0m/);
  assert.ok(!(await script({ NO_COLOR: '1' })).stdout.includes(ESC), 'NO_COLOR');
  assert.match((await script({ NO_COLOR: '1', FORCE_COLOR: '1' })).stdout, /\x1b\[1mHeader/, 'FORCE_COLOR wins');
});

test('a token or key set cannot send escape sequences to the terminal', async () => {
  const token = signer.sign(claims({ sub: 'x\x1b[2J\x1b]8;;https://evil.example\x07y\u009b1m\u202e' }));
  for (const env of [{}, { FORCE_COLOR: '1' }]) {
    const outputs = [await cli(['inspect', token], { env }), await cli(['keys', hostile.jwksUri], { env }), await cli(['verify', makeSigner('ES256', { kid: HOSTILE_KID }).sign(claims()), '--jwks-uri', hostile.jwksUri], { env })];
    for (const { stdout, stderr } of outputs) {
      const text = stdout + stderr;
      assert.doesNotMatch(text, /\x1b(?!\[(?:0|1|2|31|32|33)m)|[\x07\u009b\u202e]/, JSON.stringify(text));
    }
    assert.match(outputs[0].stdout, /"sub": "x\\u001b\[2J\\u001b\]8;;https:\/\/evil\.example\\u0007y\\u009b1m\\u202e"/);
    assert.match(outputs[1].stdout, /evil\\u001b\]0;pwned\\u0007\\u009b2J\\u202e/);
  }
});

test('usage errors: exit 2, one line on stderr pointing to --help', async () => {
  const cases = [
    [[], /^jwks-cache: no command given \(see jwks-cache --help\)\n$/],
    [['frobnicate'], /^jwks-cache: unknown command "frobnicate" \(inspect, verify, keys\) \(see jwks-cache --help\)\n$/],
    [['inspect'], /^jwks-cache inspect: missing the token \(or - to read it from standard input\) \(see jwks-cache inspect --help\)\n$/],
    [['inspect', 'a', 'b'], /^jwks-cache inspect: unexpected argument "b"/],
    [['inspect', 'x', '--frob'], /^jwks-cache inspect: Unknown option '--frob' \(see jwks-cache inspect --help\)\n$/],
    [['inspect', 'x', '--audience', 'a'], /^jwks-cache inspect: --audience is not an option of inspect/],
    [['verify', 'x', '--audience'], /^jwks-cache verify: Option '--audience <value>' argument missing/],
    [['verify', 'x', '--audience', 'a', '--audience', 'b'], /^jwks-cache verify: --audience given more than once/],
    [['verify', goodToken(), '--jwks-uri', 'https://x.example/jwks', '--timeout-ms', 'soon'], /^jwks-cache verify: --timeout-ms takes a whole number of milliseconds, not "soon"/],
    [['keys'], /^jwks-cache keys: missing the JWKS URI \(or --issuer <issuer>\)/],
    [['keys', 'https://x.example/jwks', '--issuer', 'https://x.example'], /^jwks-cache keys: give a JWKS URI or --issuer, not both/],
  ];
  await Promise.all(cases.map(async ([args, message]) => {
    const result = await cli(args);
    assertExit(result, 2);
    assert.equal(result.stdout, '', args.join(' '));
    assert.match(result.stderr, message, args.join(' '));
    assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
  }));
  // An option the package refuses is the arguments' fault too: exit 2, with its code.
  const timeout = await cli(['keys', issuer.jwksUri, '--timeout-ms', '0']);
  assertExit(timeout, 2);
  assert.match(timeout.stderr, /^Argument refused: ERR_INVALID_OPTION\n/);
});

test('--help, <command> --help, help <command> and --version', async () => {
  const main = await cli(['--help']);
  assertExit(main, 0);
  assert.match(main.stdout, /^Usage: jwks-cache <command> \[options\]\n/);
  assert.match(main.stdout, /keeps it out of|ends up in\s+your shell history/);
  for (const command of ['inspect', 'verify', 'keys']) {
    const help = await cli([command, '--help']);
    assertExit(help, 0);
    assert.ok(help.stdout.startsWith(`Usage: jwks-cache ${command} `), command);
    assert.equal((await cli(['help', command])).stdout, help.stdout);
    assert.equal((await cli([command, '-h'])).stdout, help.stdout);
  }
  assert.match((await cli(['verify', '--help'])).stdout, /--jwks-uri <uri>[\s\S]*--issuer <issuer>[\s\S]*--audience <aud>[\s\S]*--allow-insecure-http[\s\S]*--timeout-ms <ms>/);
  assert.match((await cli(['keys', '--help'])).stdout, /nothing is guessed/);
  const version = await cli(['--version']);
  assertExit(version, 0);
  assert.equal(version.stdout, `${VERSION}\n`);
});

test('standard input is read up to a bound: an endless stream is refused as too long, not read to the end', async () => {
  const child = spawn(process.execPath, [CLI, 'inspect', '-'], { env: childEnv({}), stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.on('error', () => {}); // the CLI stops reading: EPIPE is expected
  const block = Buffer.alloc(64 * 1024, 'a');
  let written = 0;
  const pump = () => {
    while (child.stdin.writable && written < 1024 ** 3) {
      written += block.length;
      if (!child.stdin.write(block)) return void child.stdin.once('drain', pump);
    }
  };
  pump();
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /ERR_JWT_MALFORMED/);
  assert.ok(written < 64 * 1024 ** 2, `${written} bytes were taken before the CLI stopped`);
});

test('attack pass: names that objects inherit are no commands; --json escapes C1 and bidi characters; invisible ones are shown', async () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    for (const args of [[name], [name, '--json'], [name, '--help']]) {
      const result = await cli(args);
      assertExit(result, 2);
      assert.match(result.stderr, /unknown command/, args.join(' '));
    }
    const help = await cli(['help', name]);
    assertExit(help, 0);
    assert.match(help.stdout, /^Usage: jwks-cache <command> \[options\]/);
  }
  const raw = /[\u0080-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
  const keysJson = await cli(['keys', hostile.jwksUri, '--json']);
  assertExit(keysJson, 0);
  assert.doesNotMatch(keysJson.stdout, raw, 'no raw C1 or bidi character in the JSON text');
  assert.equal(JSON.parse(keysJson.stdout).entries[0].kid, HOSTILE_KID, 'the same document once parsed');

  const lookalikes = await startJwksServer({ keyCount: 0 });
  try {
    lookalikes.setKeys([{ ...signer.jwk, kid: 'k1' }, { ...edSigner.jwk, kid: 'k1\u200b' }, { ...edSigner.jwk, kid: 'k1\u2066' }]);
    const table = await cli(['keys', lookalikes.jwksUri]);
    assertExit(table, 0);
    assert.doesNotMatch(table.stdout, raw);
    assert.match(table.stdout, /k1\\u200b/);
    assert.match(table.stdout, /k1\\u2066/);
  } finally {
    await lookalikes.close();
  }
});

test('attack pass: issuers with credentials or no discovery are argument errors; a set that is no JWK Set is not the token\'s fault', async () => {
  const secret = await cli(['keys', '--issuer', 'http://alice:s3cret@127.0.0.1:1']);
  assertExit(secret, 2);
  assert.doesNotMatch(secret.stdout + secret.stderr, /s3cret/);
  assertExit(await cli(['verify', goodToken(), '--jwks-uri', 'http://alice:s3cret@127.0.0.1:1/k']), 2);
  for (const issuerArg of ['', 'https://x.example/?a=b', 'ftp://x.example']) {
    const result = await cli(['keys', '--issuer', issuerArg, '--json']);
    assertExit(result, 2);
    assert.equal(JSON.parse(result.stdout).error.source, 'arguments', issuerArg);
  }

  const notASet = await startJwksServer({ keyCount: 0 });
  try {
    notASet.behave('body', '{"keys":null}');
    const result = await cli(['verify', goodToken(), '--jwks-uri', notASet.jwksUri]);
    assertExit(result, 1);
    assert.match(result.stderr, /^Not a JWK Set/);
    assert.doesNotMatch(result.stderr, /Token refused/);
    const asJson = JSON.parse((await cli(['verify', goodToken(), '--jwks-uri', notASet.jwksUri, '--json'])).stdout);
    assert.deepEqual([asJson.valid, asJson.error.source], [false, 'keySet']);
  } finally {
    await notASet.close();
  }
});

test('attack pass: what a set can make the command print is bounded', async () => {
  const many = await startJwksServer({ keyCount: 0 });
  try {
    // 100 usable keys with 1 KB kids of C1 characters (each printed as 6 characters): the unknown-kid line
    // and the table stay short.
    const kid = (i) => `${i}-${'\u009b'.repeat(500)}`; // 1000 bytes: as long as a kid may be
    many.setKeys(Array.from({ length: 100 }, (_, i) => ({ ...signer.jwk, kid: kid(i) })));
    const verify = await cli(['verify', makeSigner('ES256', { kid: 'absent' }).sign(claims()), '--jwks-uri', many.jwksUri]);
    assertExit(verify, 1);
    assert.match(verify.stderr, /and 90 more/);
    assert.ok(verify.stderr.length < 4000, `${verify.stderr.length} characters on stderr`);
    const keys = await cli(['keys', many.jwksUri]);
    assertExit(keys, 0);
    assert.ok(keys.stdout.length < 100 * 200, `${keys.stdout.length} characters on stdout`);
  } finally {
    await many.close();
  }
});

test('attack pass: a write error other than a closed pipe is one line, exit 1, no stack trace', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
  const result = await new Promise((resolve) => {
    const child = spawn(`${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} inspect ${goodToken()} > /dev/full`, { shell: true, env: childEnv({}) });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout: '', stderr }));
  });
  assertExit(result, 1);
  assert.match(result.stderr, /^jwks-cache: cannot write the output: ENOSPC\n$/);
});
