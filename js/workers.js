// Cloudflare Workers (workerd) entry: workerd refuses to compile wasm from bytes at run time, so
// the .wasm is imported as a module, which Wrangler and Miniflare compile ahead of time.
// Signatures are checked with crypto.subtle.
import wasmModule from './wasm/jwks_cache_bg.wasm';
import { initSync } from './wasm/jwks_cache.js';
import { installSignatures } from './signatures.js';
import { subtleSignatures } from './signatures-subtle.js';

initSync({ module: wasmModule });
installSignatures(subtleSignatures);

export * from './api.js';
