// A Worker using jwks-cache as production code would: one cache per isolate, shared by all the
// requests it serves. Bundled by the test with esbuild and the `workerd` condition, like Wrangler.
//   GET /key?uri=&kid=     -> { jwk, frozen } or 500 { error: { name, code, message, status,
//                             isCacheError, wasmTrap } }
//   GET /reset?timeoutMs=  -> a new cache with that fetch timeout; forgets the recorded fetches
//   GET /clear             -> cache.clear()
//   GET /fetches           -> [{ url, cache }]: each call of the runtime's fetch since the last
//                             reset, with the `cache` member the package passed (null: none)
//   GET /exhaust-memory    -> grows the wasm memory the package runs in as far as the runtime lets
//                             it, so that the core's allocator cannot grow it any further:
//                             { pagesBefore, pagesAfter } (64 KiB pages)
import { createJwksCache, JwksCacheError } from 'jwks-cache';
// The package's own wasm-bindgen glue, by file (its `exports` do not offer it): esbuild resolves
// the node_modules link to the same file the package imports, so this is the same module instance.
import { initSync } from '../../node_modules/jwks-cache/wasm/jwks_cache.js';
import { exhaustWasmMemory } from '../support/wasm-trap.js';

let cache = createJwksCache();

// The package looks globalThis.fetch up on each call: this records what it asks the runtime for.
const fetches = [];
const runtimeFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  fetches.push({ url: String(input instanceof Request ? input.url : input), cache: init?.cache ?? null });
  return runtimeFetch.call(globalThis, input, init);
};

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const param = (name) => url.searchParams.get(name) ?? undefined;
    if (url.pathname === '/reset') {
      const timeoutMs = param('timeoutMs');
      cache = createJwksCache(timeoutMs ? { timeoutMs: Number(timeoutMs) } : {});
      fetches.length = 0;
      return new Response('ok');
    }
    if (url.pathname === '/clear') {
      try {
        cache.clear();
      } catch (error) {
        return Response.json({ error: { name: error?.name, message: error?.message } }, { status: 500 });
      }
      return new Response('ok');
    }
    if (url.pathname === '/fetches') return Response.json(fetches);
    if (url.pathname === '/exhaust-memory') return Response.json(exhaustWasmMemory(initSync({ module: new Uint8Array() }).memory));
    try {
      const jwk = await cache.getKey(param('uri'), param('kid'));
      return Response.json({ jwk, frozen: jwk === null ? null : Object.isFrozen(jwk) });
    } catch (error) {
      const { name, code, message, status } = error;
      // Present only when the cause is a trap of the wasm core (JSON leaves out undefined).
      const wasmTrap = error?.cause instanceof WebAssembly.RuntimeError || undefined;
      return Response.json({ error: { name, code, message, status, isCacheError: error instanceof JwksCacheError, wasmTrap } }, { status: 500 });
    }
  },
};
