// A real JWKS issuer on 127.0.0.1 for the tests, the demo and the benchmark. It serves a key set
// of real public keys, and can rotate them, fail, hang, go slow or serve garbage on demand; it
// counts every request it gets. It also serves static files (for the browser tests), and sends
// CORS headers so that pages from another origin may read it.
//
//   const issuer = await startJwksServer();
//   issuer.jwksUri            // http://127.0.0.1:<port>/.well-known/jwks.json
//   issuer.kids               // kids currently served
//   issuer.rotate()           // adds a new key (and by default drops the oldest); returns its kid
//   issuer.behave('status', 500) | ('hang') | ('slow', ms) | ('garbage') | ('body', text) | ('ok')
//                | ('respond', (req, res) => ...)   any response the test writes itself
//   issuer.jwksRequests       // JWKS requests so far
//   await issuer.close()

import http from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { rsaKeyPair } from './rsa-keys.js';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';

export const JWKS_PATH = '/.well-known/jwks.json';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
};

/** A public JWK of a freshly generated key pair, with a kid. */
export function makePublicJwk(type = 'EC', kid = `key-${randomUUID()}`) {
  const alg = { EC: 'ES256', RSA: 'RS256', OKP: 'EdDSA' }[type];
  // RSA keys come from a fixed set (rsa-keys.js): generating them can deadlock Node 20.20.
  if (type === 'RSA') return { ...rsaKeyPair().publicJwk, kid, alg, use: 'sig' };
  const { publicKey } = generateKeyPairSync(...{ EC: ['ec', { namedCurve: 'P-256' }], OKP: ['ed25519', {}] }[type]);
  return { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

/**
 * @param {object} [options]
 * @param {number} [options.keyCount] keys served at first (default 2, EC P-256)
 * @param {Record<string, string>} [options.files] URL path prefix -> directory served as static files
 */
export async function startJwksServer({ keyCount = 2, files = {} } = {}) {
  let keys = Array.from({ length: keyCount }, () => makePublicJwk('EC'));
  let behaviour = { mode: 'ok' };
  const requests = { jwks: 0, byPath: new Map() };
  const hanging = new Set();

  const server = http.createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    requests.byPath.set(path, (requests.byPath.get(path) ?? 0) + 1);
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-headers', '*');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();

    if (path === JWKS_PATH) {
      requests.jwks += 1;
      return serveJwks(req, res);
    }
    for (const [prefix, dir] of Object.entries(files)) {
      if (path.startsWith(prefix)) return serveFile(res, dir, path.slice(prefix.length));
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });

  async function serveJwks(req, res) {
    const { mode, value } = behaviour;
    if (mode === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    if (mode === 'respond') return value(req, res);
    if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, value));
    if (mode === 'status') return void res.writeHead(value, { 'content-type': 'text/plain' }).end(`status ${value}`);
    if (mode === 'garbage') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
    if (mode === 'body') return void res.writeHead(200, { 'content-type': 'application/json' }).end(value);
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'public, max-age=600' });
    res.end(JSON.stringify({ keys }));
  }

  async function serveFile(res, dir, relative) {
    const safe = normalize(relative).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(dir, safe));
      res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(safe)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  }

  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;

  return {
    origin,
    jwksUri: origin + JWKS_PATH,
    get keys() {
      return keys;
    },
    get kids() {
      return keys.map((k) => k.kid);
    },
    get jwksRequests() {
      return requests.jwks;
    },
    requestsTo(path) {
      return requests.byPath.get(path) ?? 0;
    },
    resetCounts() {
      requests.jwks = 0;
      requests.byPath.clear();
    },
    /** Replaces the served keys (any JSON-able values). */
    setKeys(next) {
      keys = next;
    },
    /** Publishes a new key; drops the oldest unless `keepOld`. Returns the new kid. */
    rotate({ keepOld = false, type = 'EC' } = {}) {
      const fresh = makePublicJwk(type);
      keys = keepOld ? [...keys, fresh] : [...keys.slice(1), fresh];
      return fresh.kid;
    },
    /** 'ok' | 'status' (value: code) | 'hang' | 'slow' (value: ms) | 'garbage' | 'body' (value: text) | 'respond' (value: (req, res) => void) */
    behave(mode, value) {
      behaviour = { mode, value };
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
