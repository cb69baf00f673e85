#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already there, so that it is
# cheap to run before every build. Usage: scripts/ensure-tools.sh [--browser]
#   --browser  also Debian's Chromium, for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[tools] %s\n' "$*"; }

if [ "${1:-}" = "--fuzz" ]; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    say "installing nightly Rust (minimal profile)"
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz (takes a few minutes)"
    cargo install cargo-fuzz
  fi
  exit 0
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# The CLI must be exactly the wasm-bindgen version in Cargo.lock, or the glue will not match.
want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$want" != "$have" ]; then
  say "installing wasm-bindgen-cli $want (found: ${have:-none}; takes a few minutes)"
  cargo install wasm-bindgen-cli --version "$want" --force
fi

# npm packages: wasm-opt (binaryen), TypeScript, Miniflare/workerd, playwright-core, the peers
# the benchmark compares against. Reinstalled only when package-lock.json changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dev dependencies"
  npm ci --no-audit --no-fund
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  say "installing Debian's chromium"
  for attempt in 1 2 3 4 5; do
    # Another apt may hold the lock for a while: retry rather than fail.
    if apt-get update -q && apt-get install -y -q chromium; then break; fi
    [ "$attempt" = 5 ] && { say "could not install chromium"; exit 1; }
    sleep 10
  done
fi
