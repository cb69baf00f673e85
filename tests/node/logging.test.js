// The `logger` option with the loggers people use: pino, winston and console, each writing to a
// stream the test reads. The cache calls `logger[level](context, message)` (pino's convention).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Console } from 'node:console';
import pino from 'pino';
import winston from 'winston';
import { createJwksCache } from 'jwks-cache';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';

let issuer;
before(async () => {
  issuer = await startJwksServer();
  issuer.setKeys([makePublicJwk('EC', 'k1')]);
});
after(() => issuer.close());

/** A writable that keeps what is written, as text. */
function sink() {
  const chunks = [];
  const stream = new Writable({ write: (chunk, _, done) => (chunks.push(String(chunk)), done()) });
  return { stream, text: () => chunks.join('') };
}

/** A failing refresh and an invalidation: one warn line and one info line. */
async function scenario(logger) {
  let now = 1_700_000_000_000;
  const cache = createJwksCache({ ttlMs: 60_000, maxRetries: 0, now: () => now, logger });
  await cache.getKey(issuer.jwksUri, 'k1');
  issuer.behave('status', 503);
  now += 60_000;
  await cache.getKey(issuer.jwksUri, 'k1');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await cache.invalidate(issuer.jwksUri, { reason: 'drill' });
  issuer.behave('ok');
}

test('pino: each event is one JSON line with its context and the action as msg; debug lines only at debug level', async () => {
  const out = sink();
  await scenario(pino({ level: 'info' }, out.stream));
  const lines = out.text().trim().split('\n').map((line) => JSON.parse(line));
  const failed = lines.find((line) => line.msg === 'JWKS_CACHE_REFRESH_FAILED');
  assert.equal(failed.level, 40);
  assert.equal(failed.error.code, 'ERR_JWKS_HTTP_STATUS');
  assert.equal(failed.uri, issuer.jwksUri);
  const invalidated = lines.find((line) => line.msg === 'JWKS_CACHE_INVALIDATED');
  assert.deepEqual([invalidated.level, invalidated.reason], [30, 'drill']);
  assert.ok(!lines.some((line) => line.msg === 'jwks-cache hit'), 'hits are debug');
});

test('winston: the context is logged at the right level', async () => {
  const out = sink();
  const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream: out.stream })] });
  await scenario(logger);
  const lines = out.text().trim().split('\n').map((line) => JSON.parse(line));
  const failed = lines.find((line) => line.level === 'warn' && JSON.stringify(line).includes('JWKS_CACHE_REFRESH_FAILED'));
  assert.ok(JSON.stringify(failed).includes('ERR_JWKS_HTTP_STATUS'), JSON.stringify(lines));
  assert.ok(lines.some((line) => line.level === 'info' && JSON.stringify(line).includes('drill')));
});

test('console: warn and info lines carry the action', async () => {
  const out = sink();
  const err = sink();
  await scenario(new Console({ stdout: out.stream, stderr: err.stream }));
  assert.match(err.text(), /JWKS_CACHE_REFRESH_FAILED/);
  assert.match(out.text(), /JWKS_CACHE_INVALIDATED/);
  assert.match(out.text(), /jwks-cache hit/, 'console has debug: hits are logged');
});
