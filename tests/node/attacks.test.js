// The entries of ATTACKS.md (shared/testdata) that reach getKey. The verification entries (A, B,
// D, E1-E2, F1, G) belong to token verification, which is not built yet; C2 (refetch flood) and
// B4/B5 (plain http, redirects) belong to the resilience work. F2's JWKS half (response size,
// keys, nesting) is in hostile-input.test.js, with the other findings of the hardening issue.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createJwksCache } from 'jwks-cache';
import { startJwksServer, makePublicJwk, JWKS_PATH } from '../support/jwks-server.js';

let issuer;
before(async () => {
  issuer = await startJwksServer();
});
after(() => issuer.close());
beforeEach(() => {
  issuer.behave('ok');
  issuer.resetCounts();
});

test('C1: a kid is an opaque string, compared for exact equality and never used as a path', async () => {
  issuer.setKeys([makePublicJwk('EC', 'Key-1'), makePublicJwk('EC', 'caf\u00e9'), makePublicJwk('EC', '7')]);
  const cache = createJwksCache();
  const hostile = ['../../dev/null', "' OR '1'='1", '$(rm -rf /)', '%2e%2e%2f', '?x=1#y', 'key-1', 'KEY-1', 'Key-1 ', 'cafe\u0301', 'k\u0000'];
  for (const kid of hostile) {
    assert.equal(await cache.getKey(issuer.jwksUri, kid), null, JSON.stringify(kid));
  }
  // The cold fetch, then the one refetch the window's budget allows for unknown kids (C2).
  assert.equal(issuer.jwksRequests, 2, 'misses refetched the one JWKS URL, within the refetch budget');
  assert.equal(issuer.requestsTo(JWKS_PATH), issuer.jwksRequests, 'no other path was ever requested');
  assert.equal((await cache.getKey(issuer.jwksUri, 'Key-1')).kid, 'Key-1');
  assert.equal((await cache.getKey(issuer.jwksUri, 'caf\u00e9')).kid, 'caf\u00e9');
  await assert.rejects(cache.getKey(issuer.jwksUri, 7), { code: 'ERR_KID_INVALID' }, 'no number coercion');
  await assert.rejects(cache.getKey(issuer.jwksUri, ['7']), { code: 'ERR_KID_INVALID' }, 'no array coercion');
  await assert.rejects(cache.getKey(issuer.jwksUri, 'x'.repeat(1025)), { code: 'ERR_KID_INVALID' }, 'length is bounded');
});

test('C3: thundering herd on a cold cache and after expiry: one request each time', async () => {
  let now = 0;
  // maxStaleMs: 0, so that every caller waits on the refresh (stale-while-revalidate is in
  // verify-attacks.test.js, C3).
  const cache = createJwksCache({ ttlMs: 1000, maxStaleMs: 0, maxRetries: 0, now: () => now });
  issuer.setKeys([makePublicJwk('EC', 'k')]);
  issuer.behave('slow', 50);
  await Promise.all(Array.from({ length: 1000 }, () => cache.getKey(issuer.jwksUri, 'k')));
  assert.equal(issuer.jwksRequests, 1);
  now += 1000;
  await Promise.all(Array.from({ length: 1000 }, () => cache.getKey(issuer.jwksUri, 'k')));
  assert.equal(issuer.jwksRequests, 2);
  // A failure is shared by the waiters too: one request, every caller told.
  now += 1000;
  issuer.behave('status', 503);
  const failed = await Promise.allSettled(Array.from({ length: 100 }, () => cache.getKey(issuer.jwksUri, 'k')));
  assert.equal(issuer.jwksRequests, 3);
  assert.ok(failed.every((r) => r.status === 'rejected' && r.reason.status === 503));
});

test('C4: a kid shared by different keys is ambiguous and never resolved by member order', async () => {
  const [first, second] = [makePublicJwk('EC', 'same'), makePublicJwk('RSA', 'same')];
  for (const keys of [[first, second], [second, first]]) {
    issuer.setKeys(keys);
    await assert.rejects(createJwksCache().getKey(issuer.jwksUri, 'same'), { code: 'ERR_JWKS_AMBIGUOUS_KID' });
  }
});

test('E3: a JWKS with duplicate member names is refused, whichever member a parser would keep', async () => {
  const [real, attacker] = [makePublicJwk('EC', 'k'), makePublicJwk('EC', 'k')];
  const doubled = `{"keys":[${JSON.stringify(real).slice(0, -1)},"x":${JSON.stringify(attacker.x)}}]}`;
  issuer.behave('body', doubled);
  await assert.rejects(createJwksCache().getKey(issuer.jwksUri, 'k'), (error) => {
    assert.equal(error.code, 'ERR_JWKS_INVALID_JSON');
    assert.match(error.message, /duplicate member "x"/);
    return true;
  });
});
