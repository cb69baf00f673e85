// Node entry: compiles the wasm synchronously from the file beside this module, so that
// `import` is all a caller needs, and checks signatures with node:crypto.
import { readFileSync } from 'node:fs';
import { initSync } from './wasm/jwks_cache.js';
import { installSignatures } from './signatures.js';
import { nodeSignatures } from './signatures-node.js';

initSync({ module: readFileSync(new URL('./wasm/jwks_cache_bg.wasm', import.meta.url)) });
installSignatures(nodeSignatures);

export * from './api.js';
export { createJwksCacheFromEnv } from './env.js';
