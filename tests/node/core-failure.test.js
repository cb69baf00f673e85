// A trap in the wasm core (a Rust panic, or memory exhausted) must not brick the cache: the calls
// in progress fail with ERR_JWKS_CORE_FAILURE, and the cache goes on with a fresh core. Before
// this, every later call, clear() included, threw "recursive use of an object detected" forever.
//
// The trap here is real (see tests/support/wasm-trap.js): the test grows the package's own wasm
// memory to its 4 GiB limit, so that the Rust allocator cannot grow it further, then serves a
// body whose parsing needs more memory than the allocator has left. Its own file, so that no
// other test runs in a process whose wasm memory is full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJwksCache, JwksCacheError } from 'jwks-cache';
// The same module instance the package uses: initSync on an initialised glue returns its exports.
import { initSync } from '../../node_modules/jwks-cache/wasm/jwks_cache.js';
import { ROOMY_JWKS, HUNGRY_JWKS, exhaustWasmMemory } from '../support/wasm-trap.js';

const GOOD = JSON.stringify({ keys: [{ kid: 'a', kty: 'EC', crv: 'P-256' }] });

test('a core that traps is replaced: calls in progress fail with a code, the cache works again', async () => {
  let body = GOOD;
  let release;
  const slowStart = new Promise((resolve) => (release = resolve));
  const cache = createJwksCache({
    fetch: async (input) => {
      if (input.includes('slow')) await slowStart;
      return new Response(body);
    },
  });
  assert.equal((await cache.getKey('https://issuer.test/jwks', 'a')).kid, 'a');
  body = ROOMY_JWKS;
  assert.equal(await cache.getKey('https://issuer.test/roomy', 'a'), null);

  assert.equal(exhaustWasmMemory(initSync({ module: new Uint8Array(0) }).memory).pagesAfter, 65536);
  body = HUNGRY_JWKS;

  // Calls on another URI, one fetching and one waiting on that fetch, are told too.
  const bystanders = [cache.getKey('https://issuer.test/slow', 'a'), cache.getKey('https://issuer.test/slow', 'a')];
  const [first, second] = await Promise.allSettled([
    cache.getKey('https://issuer.test/jwks', 'rotated'),
    cache.getKey('https://issuer.test/jwks', 'rotated'),
  ]);
  for (const { status, reason } of [first, second]) {
    assert.equal(status, 'rejected');
    assert.ok(reason instanceof JwksCacheError);
    assert.equal(reason.code, 'ERR_JWKS_CORE_FAILURE');
    assert.match(reason.message, /^JWKS cache core failed and was restarted empty: /);
    assert.ok(reason.cause instanceof WebAssembly.RuntimeError, 'the trap itself is the cause');
  }
  release();
  for (const bystander of bystanders) await assert.rejects(bystander, { code: 'ERR_JWKS_CORE_FAILURE' });

  body = GOOD;
  cache.clear();
  assert.equal((await cache.getKey('https://issuer.test/jwks', 'a')).kid, 'a', 'the same cache answers again');
  assert.equal((await createJwksCache({ fetch: async () => new Response(GOOD) }).getKey('https://issuer.test/jwks', 'a')).kid, 'a');
});
