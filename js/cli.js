#!/usr/bin/env node
// The jwks-cache command line (the package's "bin"): `inspect` decodes a token without verifying
// it, `verify` verifies it as cache.verify does, `keys` lists a key set as the cache reads it.
// Everything it knows comes from the package's own API (./node.js); this file only reads the
// command line and prints. Exit status: 0 done, 1 the token was refused or the key set could not
// be used, 2 wrong usage (the command line, or an argument the package refuses).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  inspectToken, loadKeySet, matchKey, explainError,
  JwksCacheError, JwtError, JwksFetchError, JwksResponseError, JwksArgumentError,
} from './node.js';

const TOKEN_ARG = `  <token>                the JWT, or - to read it from standard input, which keeps it out
                         of your shell history; a leading "Bearer " is dropped`;
const FETCH_OPTIONS = `  --allow-insecure-http  fetch http: URIs of any host (by default only this machine's)
  --timeout-ms <ms>      budget for each fetch, retries included (default 5000)`;

const HELP = {
  main: `Usage: jwks-cache <command> [options]

  inspect <token | ->    decode a JWT WITHOUT verifying it: header, payload, times, findings
  verify <token | ->     verify a JWT with its issuer's key set, as cache.verify does
  keys <jwks-uri>        list a key set's keys, and what the cache ignores in it and why

  --json                 one JSON document on stdout, for scripts (never coloured)
  -h, --help             this help; jwks-cache <command> --help for a command's
  --version              the package's version

A token given as - is read from standard input: a token on the command line ends up in
your shell history. Colours only on a terminal (NO_COLOR=1 turns them off, FORCE_COLOR=1 on).
Exit status: 0 done, 1 the token was refused or the key set could not be used, 2 wrong usage.
`,
  inspect: `Usage: jwks-cache inspect <token | -> [--json]

Decodes a JWT WITHOUT verifying it (nothing is fetched, no signature checked): its header and
payload, its time claims (exp, nbf, iat) in words, and findings: what verification would
refuse it for (alg "none", expired...), and notes (no kid; jku, x5u, jwk or x5c, which
verification never reads; no iss).

${TOKEN_ARG}
  --json                 { header, payload, times, findings } on stdout

Exit status: 0 the token could be read (whatever the findings), 1 it could not (ERR_JWT_MALFORMED).
`,
  verify: `Usage: jwks-cache verify <token | -> [--jwks-uri <uri> | --issuer <issuer>] [--audience <aud>]

Verifies a JWT as cache.verify does: its header, a key of the set and the signature, then exp,
nbf and iat, and iss and aud when given.

${TOKEN_ARG}
  --jwks-uri <uri>       the keys: the JWK Set at this URI
  --issuer <issuer>      iss must equal <issuer>; without --jwks-uri, the keys are found by
                         OpenID discovery (<issuer>/.well-known/openid-configuration)
                         Neither given: discovery from the token's own iss, said in the output.
                         That only shows the token was signed by whoever runs the issuer it
                         names, and anyone can sign a token naming their own: give --issuer.
  --audience <aud>       aud must hold <aud>
${FETCH_OPTIONS}
  --json                 { valid: true, header, payload, key, ... } or { valid: false, error }

Exit status: 0 valid (the payload is printed), 1 refused (the error's code and what to fix) or
the key set failed (said so: the token could not be checked), 2 wrong usage or arguments.
`,
  keys: `Usage: jwks-cache keys <jwks-uri> [options]
       jwks-cache keys --issuer <issuer> [options]

Fetches a JWK Set and lists its entries as the cache reads them: kid, kty, alg, size or curve,
use and the algorithms each may verify; then the entries the cache ignores, and why.

  <jwks-uri>             read as a JWKS URI (the document with "keys"), whatever it looks
                         like: nothing is guessed. Also accepted as --jwks-uri <uri>.
  --issuer <issuer>      an issuer instead: its OpenID discovery document names the set
${FETCH_OPTIONS}
  --json                 { jwksUri, issuer, isJwkSet, entries } on stdout

Exit status: 0 listed, 1 the set could not be fetched or is not a JWK Set, 2 wrong usage.
`,
};

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  'jwks-uri': { type: 'string', multiple: true },
  issuer: { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  'allow-insecure-http': { type: 'boolean' },
  'timeout-ms': { type: 'string', multiple: true },
};
const FETCHING = ['jwks-uri', 'issuer', 'allow-insecure-http', 'timeout-ms'];
const COMMANDS = {
  inspect: { run: inspect, options: [] },
  verify: { run: verify, options: [...FETCHING, 'audience'] },
  keys: { run: keys, options: FETCHING },
};

/** A mistake on the command line: exit 2, one line, a pointer to --help. */
class UsageError extends Error {}

// Output. Outside text (claims, kids, messages quoting them) goes through `clean` before it is
// printed, so that a token or key set cannot send escape sequences to the terminal.
// Controls (C0, C1), and the invisible and direction characters that would make two texts look
// alike or reorder a line: zero-width ones, marks, embeddings, overrides, isolates, separators, BOM.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const clean = (text) => String(text).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const pretty = (value) => JSON.stringify(value, null, 2).split('\n').map(clean).join('\n');
const quote = (value) => clean(JSON.stringify(value) ?? String(value));
/** JSON for scripts, with the same characters escaped: JSON.stringify escapes C0 controls itself, and
 * the others occur only inside strings, so the document says the same. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const json = (value) => JSON.stringify(value, null, 2).replace(JSON_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function colourOn(stream, json) {
  if (json) return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return stream.isTTY === true && !process.env.NO_COLOR;
}

function writer(stream, json) {
  const on = colourOn(stream, json);
  const paint = (code) => (text) => (on ? `\x1b[${code}m${text}\x1b[0m` : text);
  return {
    line: (text = '') => stream.write(`${text}\n`),
    bold: paint(1), dim: paint(2), red: paint(31), green: paint(32), yellow: paint(33),
  };
}

/** Only the commands themselves: `constructor` or `__proto__` is no command. */
const isCommand = (name) => typeof name === 'string' && Object.hasOwn(COMMANDS, name);

async function main(argv) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true });
  } catch (error) {
    throw new UsageError(error.message.split('. ')[0].split('\n')[0], { cause: isCommand(argv[0]) ? argv[0] : undefined });
  }
  const { values, positionals: [command, ...args] } = parsed;
  const io = { json: values.json === true, out: writer(process.stdout, values.json), err: writer(process.stderr, values.json) };
  if (values.version) {
    io.out.line(JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')).version);
    return 0;
  }
  if (command === undefined || command === 'help') {
    if (!values.help && command === undefined) throw new UsageError('no command given');
    io.out.line(HELP[isCommand(args[0]) ? args[0] : 'main']);
    return 0;
  }
  if (!isCommand(command)) throw new UsageError(`unknown command "${command}" (inspect, verify, keys)`);
  if (values.help) {
    io.out.line(HELP[command]);
    return 0;
  }
  const options = {};
  for (const [name, value] of Object.entries(values)) {
    if (!['json', ...COMMANDS[command].options].includes(name)) throw new UsageError(`--${name} is not an option of ${command}`, { cause: command });
    if (Array.isArray(value) && value.length > 1) throw new UsageError(`--${name} given more than once`, { cause: command });
    options[name] = Array.isArray(value) ? value[0] : value;
  }
  try {
    return await COMMANDS[command].run(args, options, io);
  } catch (error) {
    if (error instanceof UsageError) error.cause ??= command;
    throw error;
  }
}

/** The most of standard input read: a token is at most 16 KiB. */
const MAX_STDIN_BYTES = 64 * 1024;

/** The token argument: itself, or standard input for '-'; trimmed, without "Bearer ". */
async function readToken(args) {
  if (args.length === 0) throw new UsageError('missing the token (or - to read it from standard input)');
  if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
  let text = args[0];
  if (text === '-') {
    if (process.stdin.isTTY) process.stderr.write('Paste the token, then press Ctrl-D:\n');
    // Read up to a bound, never all of it: `cat /dev/zero | jwks-cache inspect -` must end. What
    // is past a token's 16 KiB (with room for "Bearer " and whitespace) is refused as too long.
    const chunks = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_STDIN_BYTES) break;
    }
    process.stdin.destroy();
    text = Buffer.concat(chunks).subarray(0, MAX_STDIN_BYTES + 1).toString('utf8');
  }
  text = text.trim().replace(/^Bearer\s+/i, '');
  if (text === '') throw new UsageError(args[0] === '-' ? 'no token on standard input' : 'the token is empty');
  return text;
}

/** A URL given on the command line with a user or password in it is refused before it is printed or used. */
function refuseCredentials(...urls) {
  for (const url of urls) {
    if (typeof url === 'string' && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url)) throw new UsageError('a URL with a user or password in it is refused (keys and discovery documents are public)');
  }
}

/** The cache options of the fetching commands. */
function cacheOptions(options) {
  refuseCredentials(options.issuer, options['jwks-uri']);
  const cacheOptions = {};
  if (options['allow-insecure-http']) cacheOptions.allowInsecureHttp = true;
  const timeout = options['timeout-ms'];
  if (timeout !== undefined) {
    if (!/^\d+$/.test(timeout)) throw new UsageError(`--timeout-ms takes a whole number of milliseconds, not "${timeout}"`);
    cacheOptions.timeoutMs = Number(timeout);
  }
  return cacheOptions;
}

/** The error as the output tells it: whose fault (the token, the key set, the arguments), code, message, what to fix. */
function describeError(error) {
  const source = error instanceof JwtError ? 'token'
    : error.reason === 'issuer' || error instanceof JwksArgumentError ? 'arguments'
      : error instanceof JwksFetchError || error instanceof JwksResponseError ? 'keySet' : 'internal';
  let fix = null;
  try {
    fix = explainError(error) || null;
  } catch {}
  return { source, name: error.name, code: error.code, message: error.message, fix };
}

/** What the command line adds to explainError's sentence. */
const CLI_HINTS = {
  ERR_JWKS_URI_INVALID: ['An http: URL of another host than this machine (a test issuer) needs --allow-insecure-http.'],
  ERR_JWKS_TIMEOUT: ['--timeout-ms <ms> allows longer.'],
};

/** The first line of a failure, by whose fault it is; verify says more about the key set. */
const TITLES = {
  token: 'Token refused', keySet: 'Key set failed', arguments: 'Argument refused', internal: 'Failed',
};

/**
 * Reports an error of the package (anything else is a bug, thrown on): in JSON, `report` with
 * `error`, on stdout; else a few lines on stderr: the title (`titles` override TITLES), the
 * message, `lines`, what to fix. Returns the exit status.
 */
function failed(io, error, { report = {}, lines = [], titles = {} } = {}) {
  if (!(error instanceof JwksCacheError)) throw error;
  const described = describeError(error);
  const status = described.source === 'arguments' ? 2 : 1;
  if (io.json) {
    io.out.line(json({ ...report, error: described }));
    return status;
  }
  const title = titles[described.source] ?? TITLES[described.source];
  io.err.line(`${io.err.red(io.err.bold(title))}: ${io.err.bold(described.code)}`);
  io.err.line(`  ${clean(described.message)}`);
  for (const line of [...lines, ...(CLI_HINTS[described.code] ?? [])]) io.err.line(`  ${line}`);
  if (described.fix) io.err.line(`  ${io.err.bold('What to fix:')} ${clean(described.fix)}`);
  return status;
}

const timeLines = (times, w, width = 3) => times.map(({ claim, value, date, text, problem }) => {
  const line = `${claim.padEnd(width)}  ${(date ?? quote(value)).padEnd(20)}  ${clean(text)}`;
  return problem ? w.red(line) : line;
});
const findingLine = ({ code, refused, message }, w) =>
  refused ? `${w.red('refused')}  ${w.bold(code)}: ${clean(message)}` : `${w.yellow('note')}     ${code}: ${clean(message)}`;

async function inspect(args, options, io) {
  const token = await readToken(args);
  let inspected;
  try {
    inspected = inspectToken(token);
  } catch (error) {
    return failed(io, error, { titles: { token: 'Token unreadable' } });
  }
  const { header, payload, times, findings } = inspected;
  if (io.json) {
    io.out.line(json({ header, payload, times, findings }));
    return 0;
  }
  const w = io.out;
  w.line(w.bold('Header'));
  w.line(pretty(header));
  w.line(w.bold('Payload'));
  w.line(pretty(payload));
  w.line(w.bold('Times'));
  for (const line of times.length ? timeLines(times, w) : ['none (no exp, nbf or iat)']) w.line(`  ${line}`);
  w.line(w.bold('Findings'));
  for (const line of findings.length ? findings.map((f) => findingLine(f, w)) : ['none']) w.line(`  ${line}`);
  w.line(w.dim('NOT VERIFIED: this is what the token says about itself. jwks-cache verify checks it.'));
  return 0;
}

async function verify(args, options, io) {
  const token = await readToken(args);
  const settings = cacheOptions(options);
  let inspected;
  try {
    inspected = inspectToken(token);
  } catch (error) {
    return failed(io, error, { report: { valid: false } });
  }
  const { header, payload, times, findings } = inspected;
  const { 'jwks-uri': jwksUri, issuer, audience } = options;
  const keysFrom = jwksUri !== undefined ? 'jwks-uri' : issuer !== undefined ? 'issuer' : 'token-iss';
  const checkIssuer = keysFrom === 'token-iss' ? payload.iss : issuer;
  if (keysFrom === 'token-iss') {
    if (typeof payload.iss !== 'string' || payload.iss === '') throw new UsageError('the token has no "iss" to find its keys by: give --jwks-uri or --issuer');
    // The token chooses where to look; a plain-http issuer (one on this machine: others are refused
    // anyway) would let it send this command to any local port and path. Only when asked to.
    if (!/^https:\/\//i.test(payload.iss) && !options['allow-insecure-http']) {
      throw new UsageError(`the token's own iss ${quote(payload.iss)} is not https: follow it only with --issuer (or --allow-insecure-http)`);
    }
    if (!io.json) io.err.line(io.err.yellow(`No --jwks-uri or --issuer: finding the keys by OpenID discovery from the token's own iss ${quote(payload.iss)}.`));
  }
  const report = { valid: false, jwksUri: jwksUri ?? null, issuer: checkIssuer ?? null, keysFrom, audience: audience ?? null };
  let loaded;
  try {
    loaded = await loadKeySet(jwksUri !== undefined ? { jwksUri } : { issuer: checkIssuer }, settings);
  } catch (error) {
    // The key set failed first; say too what verification would refuse the token for anyway.
    const refusals = findings.filter((f) => f.refused).map((f) => `The token would be refused anyway: ${f.code}: ${clean(f.message)}`);
    const lines = [`Key set: ${clean(jwksUri ?? `OpenID discovery of ${checkIssuer}`)}`, ...refusals];
    return failed(io, error, { report: { ...report, findings }, lines, titles: KEY_SET_TITLE });
  }
  report.jwksUri = loaded.jwksUri;
  if (!loaded.keySet.isJwkSet) {
    loaded.cache.close();
    return notAJwkSet(io, loaded.jwksUri, report, []);
  }
  let result;
  try {
    result = await loaded.cache.verify(token, { jwksUri: loaded.jwksUri, issuer: checkIssuer, audience });
  } catch (error) {
    const lines = error.code === 'ERR_JWKS_NO_MATCHING_KEY' ? [keyProblem(loaded.keySet, header)] : [];
    if (KEY_CODES.includes(error.code)) lines.unshift(`Key set: ${clean(loaded.jwksUri)}`);
    // The claim the message names ('JWT claim invalid: "aud" ...'), and the times in words.
    const claim = /^JWT claim invalid: "([^"]+)"/.exec(error.message)?.[1];
    if (claim !== undefined) lines.push(Object.hasOwn(payload, claim) ? `The token's "${clean(claim)}": ${quote(payload[claim])}` : `The token has no "${clean(claim)}"`);
    lines.push(...timeLines(times.filter((t) => t.problem), io.err));
    return failed(io, error, { report: { ...report, header, payload, times, findings }, lines, titles: KEY_SET_TITLE });
  } finally {
    loaded.cache.close();
  }
  if (io.json) {
    io.out.line(json({ ...report, valid: true, header: result.protectedHeader, payload: result.payload, times, findings, key: result.key }));
    return 0;
  }
  const w = io.out;
  const kid = result.key.kid === undefined ? 'the set\'s one key for it' : `key ${quote(result.key.kid)}`;
  const issuerText = {
    'jwks-uri': issuer === undefined ? `${quote(payload.iss)}, not checked (give --issuer)` : `${quote(issuer)}, checked`,
    issuer: `${quote(issuer)}, checked (keys found by its OpenID discovery)`,
    'token-iss': w.yellow(`${quote(payload.iss)}, taken from the token itself: anyone can sign a token naming their own issuer; give --issuer`),
  }[keysFrom];
  w.line(w.green(w.bold('Valid token')));
  w.line(`  signed    ${clean(result.protectedHeader.alg)}, ${kid} of ${clean(loaded.jwksUri)}`);
  w.line(`  issuer    ${issuerText}`);
  w.line(`  audience  ${audience === undefined ? 'not checked (give --audience)' : `${quote(audience)}, checked`}`);
  for (const line of timeLines(times, w, 8)) w.line(`  ${line}`);
  for (const finding of findings) w.line(`  ${findingLine(finding, w)}`);
  w.line(w.bold('Payload'));
  w.line(pretty(result.payload));
  return 0;
}

/** Text cut to `max` characters (after escaping, so that the cut is what is shown). */
const shortened = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A key set URI that answered JSON without a "keys" array: the key set failed (exit 1). */
function notAJwkSet(io, uri, report, hint) {
  if (io.json) {
    if (report !== null) io.out.line(json({ ...report, error: { source: 'keySet', name: 'JwksResponseError', code: null, message: 'not a JWK Set: JSON without a "keys" array', fix: null } }));
    return 1;
  }
  io.err.line(`${io.err.red(io.err.bold('Not a JWK Set'))}: ${clean(uri)} answered JSON without a "keys" array (the cache reads it as an empty set)`);
  for (const line of hint) io.err.line(`  ${line}`);
  return 1;
}

/** verify: a key set that fails is not the token's fault, and the output says so first. */
const KEY_SET_TITLE = { keySet: 'Key set failed, not the token (it could not be checked)' };

/** Token errors about the key that verifies it: their output names the key set. */
const KEY_CODES = ['ERR_JWKS_NO_MATCHING_KEY', 'ERR_JWS_SIGNATURE_INVALID', 'ERR_JWKS_AMBIGUOUS_KID'];

/** Why no key of the set verifies a token with this header, as far as the set tells. */
function keyProblem(keySet, header) {
  if (!keySet.isJwkSet) return 'The key set URI answered JSON without a "keys" array: it is not a JWK Set';
  const entry = matchKey(keySet, header);
  const usable = keySet.entries.filter((e) => e.kid !== null && e.ignored === null).map((e) => quote(shortened(e.kid, 48)));
  const kids = usable.length > 10 ? [...usable.slice(0, 10), `and ${usable.length - 10} more`] : usable;
  if (entry === null) {
    return typeof header.kid === 'string'
      ? `No entry of the set has kid ${quote(header.kid)}; the kids it can use: ${kids.join(', ') || 'none'}`
      : `The token has no kid, and the set has no single key that can verify ${quote(header.alg)}`;
  }
  if (entry.ignored !== null) return `Entry #${entry.index} has this kid, but the cache ignores it: ${clean(entry.ignored)}`;
  return `Entry #${entry.index} may verify ${entry.algorithms.join(', ') || 'nothing'}, not ${quote(header.alg)}`;
}

async function keys(args, options, io) {
  const settings = cacheOptions(options);
  if (args.length > 1) throw new UsageError(`unexpected argument "${args[1]}"`);
  if (args.length === 1 && options['jwks-uri'] !== undefined) throw new UsageError('the JWKS URI is given twice');
  const jwksUri = args[0] ?? options['jwks-uri'];
  refuseCredentials(jwksUri);
  const { issuer } = options;
  if (jwksUri !== undefined && issuer !== undefined) throw new UsageError('give a JWKS URI or --issuer, not both');
  if (jwksUri === undefined && issuer === undefined) throw new UsageError('missing the JWKS URI (or --issuer <issuer>)');
  const report = { jwksUri: jwksUri ?? null, issuer: issuer ?? null };
  const hint = jwksUri === undefined ? [] : [`If ${clean(jwksUri)} is an issuer rather than its key set: jwks-cache keys --issuer ${clean(jwksUri)}`];
  let loaded;
  try {
    loaded = await loadKeySet(jwksUri !== undefined ? { jwksUri } : { issuer }, settings);
  } catch (error) {
    return failed(io, error, { report, lines: error.code === 'ERR_JWKS_INVALID_JSON' || error.code === 'ERR_JWKS_HTTP_STATUS' ? hint : [] });
  }
  loaded.cache.close();
  const { isJwkSet, entries } = loaded.keySet;
  if (io.json) {
    io.out.line(json({ jwksUri: loaded.jwksUri, issuer: loaded.issuer ?? null, isJwkSet, entries }));
    return isJwkSet ? 0 : 1;
  }
  if (!isJwkSet) return notAJwkSet(io, loaded.jwksUri, null, hint);
  const w = io.out;
  const usable = entries.filter((e) => e.ignored === null).length;
  w.line(`${w.bold('Key set')} ${clean(loaded.jwksUri)}${loaded.issuer ? ` (issuer ${quote(loaded.issuer)})` : ''}: ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, ${usable} usable`);
  if (entries.length === 0) return 0;
  const cell = (value, max = 24) => (value === null ? '-' : shortened(clean(value), max));
  const kid = (e, max = 48) => (e.kid === null ? '(none)' : e.kid === '' ? '""' : cell(e.kid, max));
  const rows = entries.map((e) => [String(e.index), kid(e), cell(e.kty), cell(e.alg),
    e.crv !== null ? cell(e.crv) : e.bits !== null ? `${e.bits} bits` : '-', cell(e.use),
    e.ignored !== null ? 'ignored' : e.algorithms.join(' ')]);
  const head = ['#', 'kid', 'kty', 'alg', 'size', 'use', 'verifies'];
  const widths = head.map((_, i) => Math.max(...[head, ...rows].map((row) => row[i].length)));
  const format = (row) => row.map((text, i) => (i === row.length - 1 ? text : text.padEnd(widths[i]))).join('  ');
  w.line(`  ${w.bold(format(head))}`);
  rows.forEach((row, i) => w.line(`  ${entries[i].ignored !== null ? w.yellow(format(row)) : format(row)}`));
  const ignored = entries.filter((e) => e.ignored !== null);
  if (ignored.length) w.line(w.bold('Ignored by the cache'));
  for (const e of ignored) w.line(`  #${e.index} ${kid(e, 96)}: ${clean(e.ignored)}`);
  if (entries.some((e) => e.kid === null && e.ignored === null)) w.line(w.dim('An entry without a kid verifies only tokens without one, and only as the set\'s one key for their alg.'));
  return 0;
}

// A reader that went away (`| head -1`) ends the command quietly; another write error (a full
// disk) is said in one line, without a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code !== 'EPIPE' && stream === process.stdout) process.stderr.write(`jwks-cache: cannot write the output: ${error.code ?? error.message}\n`);
    process.exit(error.code === 'EPIPE' ? process.exitCode ?? 0 : 1);
  });
}
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error; // a bug: Node prints it with its stack
  const command = typeof error.cause === 'string' ? ` ${error.cause}` : '';
  process.stderr.write(`jwks-cache${command}: ${clean(error.message)} (see jwks-cache${command} --help)\n`);
  process.exitCode = 2;
}
