// Cloudflare Workers (workerd) entry: workerd refuses to compile wasm from bytes at run time, so
// the .wasm is imported as a module, which Wrangler and Miniflare compile ahead of time.
import wasmModule from './wasm/jwks_cache_bg.wasm';
import { initSync } from './wasm/jwks_cache.js';

initSync({ module: wasmModule });

export * from './api.js';
