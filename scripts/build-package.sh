#!/usr/bin/env bash
# Builds the installable npm package into pkg/: the release wasm, its wasm-bindgen glue, the JS
# layer, the types and the package's own files; then links it as node_modules/jwks-cache so the
# tests, the demo and the benchmark import it by name, exactly as users do.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --target wasm32-unknown-unknown
rm -rf build/wasm pkg
wasm-bindgen --target web --out-dir build/wasm --out-name jwks_cache \
  target/wasm32-unknown-unknown/release/jwks_cache.wasm
mkdir -p pkg/wasm
# binaryen from npm (v132): Debian's v108 emits modules that fail to instantiate.
node_modules/.bin/wasm-opt -Oz build/wasm/jwks_cache_bg.wasm -o pkg/wasm/jwks_cache_bg.wasm
cp build/wasm/jwks_cache.js pkg/wasm/
cp js/*.js js/*.d.ts pkg/
mkdir -p pkg/stores pkg/middleware && cp js/stores/*.js js/stores/*.d.ts pkg/stores/ && cp js/middleware/*.js js/middleware/*.d.ts pkg/middleware/
cp pkg-template/* pkg/
ln -sfn ../pkg node_modules/jwks-cache

raw=$(wc -c < pkg/wasm/jwks_cache_bg.wasm)
gz=$(gzip -9c pkg/wasm/jwks_cache_bg.wasm | wc -c)
echo "[build] pkg/ ready: jwks_cache_bg.wasm ${raw} bytes, ${gz} gzipped"
