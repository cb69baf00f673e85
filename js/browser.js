// Browser (and default) entry: streams and compiles the .wasm beside this module. Bundlers
// (Vite, webpack, esbuild) recognise `new URL(..., import.meta.url)` and emit the file.
// Signatures are checked with crypto.subtle.
import init from './wasm/jwks_cache.js';
import { installSignatures } from './signatures.js';
import { subtleSignatures } from './signatures-subtle.js';

await init({ module_or_path: new URL('./wasm/jwks_cache_bg.wasm', import.meta.url) });
installSignatures(subtleSignatures);

export * from './api.js';
