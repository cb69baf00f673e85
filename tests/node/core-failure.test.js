// A trap in the wasm core (a Rust panic, or memory exhausted) must not brick the cache: the calls
// in progress fail with ERR_JWKS_CORE_FAILURE, and the cache goes on with a fresh core. Before
// this, every later call, clear() included, threw "recursive use of an object detected" forever.
//
// The trap here is real: the test grows the package's own wasm memory to its 4 GiB maximum, so
// that the Rust allocator cannot grow it further, then serves a body whose parsing needs more
// memory than the allocator has left. The bounds make this impossible with the default options
// in a healthy process; a full memory is how a trap is provoked on purpose. Its own file, so that
// no other test runs in a process whose wasm memory is full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createJwksCache, JwksCacheError } from 'jwks-cache';
// The same module instance the package uses: initSync on an initialised glue returns its exports.
import { initSync } from '../../node_modules/jwks-cache/wasm/jwks_cache.js';

const WASM_PAGE = 64 * 1024;
const MAX_PAGES = 65536;
const GOOD = JSON.stringify({ keys: [{ kid: 'a', kty: 'EC', crv: 'P-256' }] });
// Parsed and dropped before memory is full, so that the allocator holds about 1 MB of free space:
// enough to take in the next body, so that the trap comes inside the core, during parsing.
const ROOMY = `{"keys":[],"pad":"${'p'.repeat(500_000)}"}`;
// Within every bound (90 entries, 400 KB), but a few megabytes once parsed.
const HUNGRY = `{"keys":[${Array(90).fill('{}').join(',')}],"pad":[${Array(200_000).fill('0').join(',')}]}`;

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
  body = ROOMY;
  assert.equal(await cache.getKey('https://issuer.test/roomy', 'a'), null);

  const { memory } = initSync({ module: new Uint8Array(0) });
  memory.grow(MAX_PAGES - memory.buffer.byteLength / WASM_PAGE);
  body = HUNGRY;

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
