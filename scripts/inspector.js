#!/usr/bin/env node
// The token inspector (inspector/): assembles it into build/inspector/ with the built package
// beside it (build/inspector/jwks-cache/, a copy of pkg/), serves that directory on 127.0.0.1, and
// starts a small sample issuer (OpenID discovery and a JWKS, with CORS) on another loopback port,
// printing a token it signed so that the page can be tried at once. No dependencies.
//
//   node scripts/inspector.js                 assemble, serve on 127.0.0.1:8788, start the issuer
//   node scripts/inspector.js --port 9000     another port for the page (0: any free one)
//   node scripts/inspector.js --build-only    assemble only (the tests serve it themselves)
//
// build/inspector/ is a plain static site with relative URLs only: it can be copied to any static
// host (which should send the same Content-Security-Policy header; the page also sets it by meta).

import http from 'node:http';
import { cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateKeyPairSync, sign } from 'node:crypto';

const root = fileURLToPath(new URL('..', import.meta.url));
export const SOURCE_DIR = join(root, 'inspector');
export const PKG_DIR = join(root, 'pkg');
export const OUT_DIR = join(root, 'build', 'inspector');
/** Where the package goes inside the site; inspector/inspector.js imports ./jwks-cache/browser.js. */
export const PACKAGE_SUBDIR = 'jwks-cache';
export const DEFAULT_PORT = 8788;

/**
 * The policy the server sends. The page sets the same one by <meta> (which cannot carry
 * frame-ancestors); 'self' in connect-src is the page's own wasm, fetched by the package.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "connect-src 'self' https: http://127.0.0.1:* http://localhost:*",
  "style-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};

/** Copies inspector/* and pkg/ into `outDir` (emptied first). Throws when pkg/ is not built. */
export function assembleInspector({ outDir = OUT_DIR } = {}) {
  for (const file of ['browser.js', 'api.js', 'wasm/jwks_cache.js', 'wasm/jwks_cache_bg.wasm']) {
    if (!existsSync(join(PKG_DIR, file))) throw new Error(`pkg/ is not built (missing pkg/${file}): run make build first`);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  cpSync(SOURCE_DIR, outDir, { recursive: true });
  // The whole package: the browser entry and everything it imports (the Node-only modules in it
  // are never loaded by the page).
  cpSync(PKG_DIR, join(outDir, PACKAGE_SUBDIR), { recursive: true, dereference: true });
  return outDir;
}

/**
 * Serves `dir` statically on `host`:`port` (GET and HEAD; `/` and directories answer their
 * index.html; nothing outside `dir`). Resolves to { origin, url, close() }.
 */
export async function serveStatic(dir, { port = DEFAULT_PORT, host = '127.0.0.1' } = {}) {
  const base = resolve(dir);
  const server = http.createServer(async (req, res) => {
    const headers = {
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'cross-origin-opener-policy': 'same-origin',
      'cache-control': 'no-store',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return void res.writeHead(405, { ...headers, allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed');
    }
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return void res.writeHead(400, { ...headers, 'content-type': 'text/plain' }).end('bad request');
    }
    let file = resolve(base, '.' + path);
    if (file !== base && !file.startsWith(base + sep)) {
      return void res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found');
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = await readFile(file);
      res.writeHead(200, { ...headers, 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': body.length });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      res.writeHead(404, { ...headers, 'content-type': 'text/plain' }).end('not found');
    }
  });
  await listen(server, port, host);
  const origin = `http://${host}:${server.address().port}`;
  return { origin, url: `${origin}/`, close: () => closeServer(server) };
}

const b64url = (data) => Buffer.from(data).toString('base64url');

/**
 * A sample issuer on 127.0.0.1 with CORS: /.well-known/openid-configuration and /jwks.json (an
 * ES256 and an Ed25519 signing key, and an encryption key, which the cache ignores for signatures).
 * `sign(claims)` signs with the ES256 key. Resolves to { origin, jwksUri, sign(claims), token, close() }.
 */
export async function startSampleIssuer({ port = 0, host = '127.0.0.1' } = {}) {
  const es256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed25519 = generateKeyPairSync('ed25519');
  const encryption = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = [
    { ...es256.publicKey.export({ format: 'jwk' }), kid: 'sample-es256', alg: 'ES256', use: 'sig' },
    { ...ed25519.publicKey.export({ format: 'jwk' }), kid: 'sample-ed25519', alg: 'EdDSA', use: 'sig' },
    { ...encryption.publicKey.export({ format: 'jwk' }), kid: 'sample-enc', alg: 'ECDH-ES', use: 'enc' },
  ];
  let origin;
  const server = http.createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    if (req.method === 'OPTIONS') return void res.writeHead(204, { 'access-control-allow-headers': '*' }).end();
    const path = new URL(req.url, 'http://x').pathname;
    const json = (value) => res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' }).end(JSON.stringify(value, null, 2));
    if (path === '/.well-known/openid-configuration') return void json({ issuer: origin, jwks_uri: `${origin}/jwks.json`, id_token_signing_alg_values_supported: ['ES256', 'EdDSA'] });
    if (path === '/jwks.json') return void json({ keys });
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await listen(server, port, host);
  origin = `http://${host}:${server.address().port}`;
  const signClaims = (claims) => {
    const input = `${b64url(JSON.stringify({ alg: 'ES256', kid: 'sample-es256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
    return `${input}.${b64url(sign('sha256', Buffer.from(input), { key: es256.privateKey, dsaEncoding: 'ieee-p1363' }))}`;
  };
  const now = Math.floor(Date.now() / 1000);
  return {
    origin,
    jwksUri: `${origin}/jwks.json`,
    sign: signClaims,
    token: signClaims({ iss: origin, sub: 'sample-user', aud: 'sample-api', scope: 'read:reports', iat: now, nbf: now, exp: now + 3600 }),
    close: () => closeServer(server),
  };
}

function listen(server, port, host) {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
}

function closeServer(server) {
  server.closeAllConnections();
  return new Promise((resolveClose) => server.close(() => resolveClose()));
}

function parseArgs(argv) {
  const args = { port: DEFAULT_PORT, buildOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--build-only') args.buildOnly = true;
    else if (arg === '--port' || arg.startsWith('--port=')) {
      const value = arg === '--port' ? argv[++i] : arg.slice('--port='.length);
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: not a port number: ${value}`);
      args.port = port;
    } else if (arg === '--help' || arg === '-h') args.help = true;
    else throw new Error(`unknown argument: ${arg} (use --port N, --build-only)`);
  }
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log('node scripts/inspector.js [--port N (default 8788)] [--build-only]');
    return;
  }
  const dir = assembleInspector();
  console.log(`Assembled ${dir}`);
  if (args.buildOnly) return;

  const site = await serveStatic(dir, { port: args.port }).catch((error) => {
    if (error.code === 'EADDRINUSE') throw new Error(`port ${args.port} is in use on 127.0.0.1: try --port ${args.port + 1}`);
    throw error;
  });
  const issuer = await startSampleIssuer();
  console.log(`\nInspector: ${site.url}`);
  console.log(`Sample issuer: ${issuer.origin} (OpenID discovery, JWKS at ${issuer.jwksUri}, CORS on)`);
  console.log('A token it signed (valid for 1 h; its keys are found by discovery from its iss; audience "sample-api"):\n');
  console.log(issuer.token);
  console.log('\nCtrl+C stops both.');
  const stop = async () => {
    await Promise.all([site.close(), issuer.close()]);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(`inspector: ${error.message}`);
    process.exit(1);
  });
}
