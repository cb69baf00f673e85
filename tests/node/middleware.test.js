// The middleware in real servers listening on 127.0.0.1: Express 5, Fastify 5 and Hono 4 (on
// @hono/node-server), each guarding a route, receiving real HTTP requests (valid, expired, wrong
// audience, wrong signature, no token, malformed header, JWKS down). And jose's jwtVerify with
// cache.joseKeyResolver. (Hono in workerd: tests/workerd/hono.test.js.)

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { jwtVerify, errors as joseErrors } from 'jose';
import { createJwksCache } from 'jwks-cache';
import { jwtAuth as expressAuth } from 'jwks-cache/express';
import { jwtAuth as fastifyAuth } from 'jwks-cache/fastify';
import { jwtAuth as honoAuth } from 'jwks-cache/hono';
import { startJwksServer } from '../support/jwks-server.js';
import { makeSigner, nowSec } from '../support/signer.js';

const ISSUER = 'https://issuer.example';
const AUDIENCE = 'api://orders';

let issuer;
let signer;
const servers = [];

before(async () => {
  issuer = await startJwksServer();
  signer = makeSigner('ES256', { kid: 'k1' });
});
after(async () => {
  for (const close of servers) await close();
  await issuer.close();
});
beforeEach(() => {
  issuer.setKeys([signer.jwk]);
  issuer.behave('ok');
  issuer.resetCounts();
});

const claims = (extra = {}) => ({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', exp: nowSec() + 600, ...extra });

/** The three apps, each with its own cache (maxRetries 0: a JWKS outage fails at once). */
async function startApps() {
  const options = () => ({ jwksUri: issuer.jwksUri, issuer: ISSUER, audience: AUDIENCE, cache: createJwksCache({ maxRetries: 0 }) });

  const app = express();
  app.get('/public', (req, res) => res.json({ ok: true }));
  app.use('/api', expressAuth(options()));
  app.get('/api/me', (req, res) => res.json({ sub: req.auth.payload.sub, alg: req.auth.protectedHeader.alg }));
  const expressServer = await new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server));
  });
  servers.push(() => new Promise((resolve) => (expressServer.closeAllConnections(), expressServer.close(resolve))));

  const fastify = Fastify();
  fastify.get('/public', async () => ({ ok: true }));
  await fastify.register(async (api) => {
    await api.register(fastifyAuth, options());
    api.get('/api/me', async (request) => ({ sub: request.auth.payload.sub, alg: request.auth.protectedHeader.alg }));
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  servers.push(() => fastify.close());

  const hono = new Hono();
  hono.get('/public', (c) => c.json({ ok: true }));
  hono.use('/api/*', honoAuth(options()));
  hono.get('/api/me', (c) => c.json({ sub: c.get('auth').payload.sub, alg: c.get('auth').protectedHeader.alg }));
  const honoServer = await new Promise((resolve) => {
    const server = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server));
  });
  servers.push(() => new Promise((resolve) => (honoServer.closeAllConnections?.(), honoServer.close(resolve))));

  const origin = (server) => `http://127.0.0.1:${server.address().port}`;
  return [
    ['express', origin(expressServer)],
    ['fastify', `http://127.0.0.1:${fastify.server.address().port}`],
    ['hono', origin(honoServer)],
  ];
}

let apps;
async function appsOnce() {
  apps ??= await startApps();
  return apps;
}

async function call(origin, path, authorization) {
  const response = await fetch(origin + path, { headers: authorization === undefined ? {} : { authorization } });
  const text = await response.text();
  return { status: response.status, challenge: response.headers.get('www-authenticate'), retryAfter: response.headers.get('retry-after'), body: JSON.parse(text), text };
}

test('a valid token passes, and the route sees { payload, protectedHeader }', async () => {
  for (const [name, origin] of await appsOnce()) {
    const answer = await call(origin, '/api/me', `Bearer ${signer.sign(claims())}`);
    assert.deepEqual([answer.status, answer.body], [200, { sub: 'user-1', alg: 'ES256' }], name);
    assert.deepEqual((await call(origin, '/public')).body, { ok: true }, `${name}: other routes are not guarded`);
  }
});

test('refused tokens answer 401 with WWW-Authenticate (RFC 6750) and a JSON code, echoing nothing of the token', async () => {
  const other = makeSigner('ES256', { kid: 'k1' });
  const cases = [
    ['expired', `Bearer ${signer.sign(claims({ exp: nowSec() - 600 }))}`, 'invalid_token', 'ERR_JWT_EXPIRED'],
    ['wrong audience', `Bearer ${signer.sign(claims({ aud: 'api://other' }))}`, 'invalid_token', 'ERR_JWT_CLAIM_INVALID'],
    ['wrong signature', `Bearer ${other.sign(claims())}`, 'invalid_token', 'ERR_JWS_SIGNATURE_INVALID'],
    ['garbage token', 'Bearer not.a.token', 'invalid_token', 'ERR_JWT_MALFORMED'],
    ['malformed header', 'Bearer', 'invalid_request', 'ERR_JWT_MALFORMED'],
    ['malformed header (two tokens)', 'Bearer a b', 'invalid_request', 'ERR_JWT_MALFORMED'],
  ];
  for (const [name, origin] of await appsOnce()) {
    for (const [label, authorization, error, code] of cases) {
      const answer = await call(origin, '/api/me', authorization);
      assert.equal(answer.status, 401, `${name} ${label}`);
      assert.match(answer.challenge, new RegExp(`^Bearer error="${error}", error_description="[^"]+"$`), `${name} ${label}`);
      assert.deepEqual([answer.body.error, answer.body.code], [error, code], `${name} ${label}`);
      const payloadPart = authorization.slice('Bearer '.length).split('.')[1] ?? '';
      if (payloadPart.length >= 8) assert.ok(!answer.text.includes(payloadPart), `${name} ${label}: no token content echoed`);
      assert.ok(!/at \w+ \(/.test(answer.text), `${name} ${label}: no stack trace`);
    }
    const missing = await call(origin, '/api/me');
    assert.deepEqual([missing.status, missing.challenge, missing.body.code], [401, 'Bearer', 'ERR_JWT_MISSING'], `${name}: no token`);
    const otherScheme = await call(origin, '/api/me', 'Basic dXNlcjpwYXNz');
    assert.deepEqual([otherScheme.status, otherScheme.challenge], [401, 'Bearer'], `${name}: another scheme is no token`);
  }
});

test('a JWKS endpoint that is down answers 503 with Retry-After, not 401 and never 500', async () => {
  issuer.behave('status', 500);
  const token = signer.sign(claims(), { header: { kid: 'k-unseen' } });
  for (const [name, origin] of await appsOnce()) {
    const answer = await call(origin, '/api/me', `Bearer ${token}`);
    assert.deepEqual([answer.status, answer.retryAfter, answer.body.error, answer.body.code], [503, '5', 'temporarily_unavailable', 'ERR_JWKS_HTTP_STATUS'], name);
  }
});

test('credentialsRequired: false lets a request without a token through, without auth; a bad token is still refused', async () => {
  const app = express();
  app.use(expressAuth({ jwksUri: issuer.jwksUri, credentialsRequired: false, cache: createJwksCache() }));
  app.get('/', (req, res) => res.json({ auth: req.auth ?? null }));
  const server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  servers.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  const origin = `http://127.0.0.1:${server.address().port}`;
  assert.deepEqual((await call(origin, '/')).body, { auth: null });
  assert.equal((await call(origin, '/', 'Bearer x.y.z')).status, 401);
  // A token getter of one's own: a cookie, say.
  const cookies = express();
  cookies.use(expressAuth({ jwksUri: issuer.jwksUri, getToken: (req) => /token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1], cache: createJwksCache() }));
  cookies.get('/', (req, res) => res.json({ sub: req.auth.payload.sub }));
  const cookieServer = await new Promise((resolve) => {
    const listening = cookies.listen(0, '127.0.0.1', () => resolve(listening));
  });
  servers.push(() => new Promise((resolve) => (cookieServer.closeAllConnections(), cookieServer.close(resolve))));
  const response = await fetch(`http://127.0.0.1:${cookieServer.address().port}/`, { headers: { cookie: `a=1; token=${signer.sign(claims())}` } });
  assert.deepEqual(await response.json(), { sub: 'user-1' });
});

test('options are checked when the middleware is made', () => {
  for (const make of [expressAuth, honoAuth]) {
    assert.throws(() => make({ credentialsRequired: 'no' }), { code: 'ERR_INVALID_OPTION' });
    assert.throws(() => make({ getToken: 'header' }), { code: 'ERR_INVALID_OPTION' });
    assert.throws(() => make({ cache: {} }), { code: 'ERR_INVALID_OPTION' });
    assert.throws(() => make({ jwksUri: 'https://a.example/jwks', audiance: 'x' }), { code: 'ERR_INVALID_OPTION', message: /audiance/ });
  }
});

test("jose's jwtVerify with cache.joseKeyResolver: tokens verify, a rotation is picked up, a flood of unknown kids costs one request", async () => {
  const cache = createJwksCache();
  const resolver = cache.joseKeyResolver(issuer.jwksUri);
  const { payload, protectedHeader } = await jwtVerify(signer.sign(claims()), resolver, { issuer: ISSUER, audience: AUDIENCE });
  assert.deepEqual([payload.sub, protectedHeader.kid], ['user-1', 'k1']);
  // A rotation: the new key is found by the first token naming it.
  const rotated = makeSigner('RS256', { kid: 'k2' });
  issuer.setKeys([signer.jwk, rotated.jwk]);
  assert.equal((await jwtVerify(rotated.sign(claims()), resolver, { issuer: ISSUER })).protectedHeader.kid, 'k2');
  assert.equal(issuer.jwksRequests, 2);
  // A flood of made-up kids: refused by the resolver, one refetch in all.
  const flood = await Promise.allSettled(
    Array.from({ length: 200 }, (_, i) => jwtVerify(signer.sign(claims(), { header: { kid: `junk-${i}` } }), resolver)),
  );
  assert.ok(flood.every((r) => r.status === 'rejected' && r.reason.code === 'ERR_JWKS_NO_MATCHING_KEY'));
  assert.ok(issuer.jwksRequests <= 4, `${issuer.jwksRequests} requests`);
  // jose checks the signature itself: a wrong one is jose's error.
  const forged = makeSigner('ES256', { kid: 'k1' }).sign(claims());
  await assert.rejects(jwtVerify(forged, resolver), joseErrors.JWSSignatureVerificationFailed);
  // A header whose alg the key cannot verify, or none at all, is refused before any key is used.
  await assert.rejects(resolver({ alg: 'HS256', kid: 'k1' }), { code: 'ERR_JWS_ALG_NOT_ALLOWED' });
  await assert.rejects(resolver({ alg: 'RS256', kid: 'k1' }), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
});
