// The JWK Set documents of tests/data/jwk-vectors.json, served by a real issuer, as getKey sees
// them: from a cold cache, and as a refresh of a good cached set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createJwksCache } from 'jwks-cache';
import { startJwksServer, makePublicJwk } from '../support/jwks-server.js';

const { documents } = JSON.parse(readFileSync(new URL('../data/jwk-vectors.json', import.meta.url)));

// What getKey makes of each document. The vectors' "reject" splits in two: a body that is not
// exactly one unambiguous JSON value is an error; JSON that is not a JWK Set answers as an empty
// set on a cold cache (the documented API) but never replaces a cached set (the vectors' "keep
// the previous"): that refresh fails with ERR_JWKS_SET_REFUSED. So does an empty set (the
// vectors' "accept_empty") over a set that holds keys: taken for a broken deployment.
const EXPECTED = {
  'jwks-rfc7517-a1': { finds: ['1', '2011-04-29'] },
  'jwks-not-json': { error: 'ERR_JWKS_INVALID_JSON' },
  'jwks-array': { empty: true },
  'jwks-keys-object': { empty: true },
  'jwks-keys-missing': { empty: true },
  'jwks-empty': { empty: true },
  'jwks-single-jwk-not-set': { empty: true },
  'jwks-duplicate-kid-different-keys': { ambiguous: '2011-04-29' },
  'jwks-duplicate-keys-member': { error: 'ERR_JWKS_INVALID_JSON' },
  // getKey returns keys by kid whatever their type; judging key material is verification's job.
  'jwks-unknown-kty-mixed': { finds: ['2011-04-29', 'u'] },
  'jwks-trailing-garbage': { error: 'ERR_JWKS_INVALID_JSON' },
};

let issuer;
before(async () => {
  issuer = await startJwksServer();
});
after(() => issuer.close());

test('every document of the vectors has an expectation', () => {
  assert.deepEqual(documents.map((d) => d.name).sort(), Object.keys(EXPECTED).sort());
});

for (const document of documents) {
  const expected = EXPECTED[document.name];

  test(`${document.name} (${document.expected}) from a cold cache`, async () => {
    issuer.behave('body', document.jwks_text);
    const cache = createJwksCache();
    if (expected.finds) {
      const served = JSON.parse(document.jwks_text).keys;
      for (const kid of expected.finds) {
        assert.deepEqual(await cache.getKey(issuer.jwksUri, kid), served.find((k) => k.kid === kid));
      }
      assert.equal(await cache.getKey(issuer.jwksUri, 'absent'), null);
    } else if (expected.error) {
      await assert.rejects(cache.getKey(issuer.jwksUri, '1'), { code: expected.error });
    } else if (expected.ambiguous) {
      await assert.rejects(cache.getKey(issuer.jwksUri, expected.ambiguous), { code: 'ERR_JWKS_AMBIGUOUS_KID' });
    } else {
      assert.equal(await cache.getKey(issuer.jwksUri, '2011-04-29'), null);
    }
  });

  if (expected.error || expected.empty) {
    test(`${document.name} as a refresh of a good cached set`, async () => {
      const good = makePublicJwk('EC', 'good');
      issuer.behave('body', JSON.stringify({ keys: [good] }));
      const cache = createJwksCache();
      assert.deepEqual(await cache.getKey(issuer.jwksUri, 'good'), good);

      issuer.behave('body', document.jwks_text);
      const refresh = cache.getKey(issuer.jwksUri, 'rotated');
      await assert.rejects(refresh, { code: expected.error ?? 'ERR_JWKS_SET_REFUSED' });

      issuer.behave('status', 500);
      assert.deepEqual(await cache.getKey(issuer.jwksUri, 'good'), good, 'the good set is still cached and answers without a fetch');
    });
  }
}
