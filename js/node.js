// Node entry: compiles the wasm synchronously from the file beside this module, so that
// `import` is all a caller needs.
import { readFileSync } from 'node:fs';
import { initSync } from './wasm/jwks_cache.js';

initSync({ module: readFileSync(new URL('./wasm/jwks_cache_bg.wasm', import.meta.url)) });

export * from './api.js';
