#!/usr/bin/env bash
# Installs what building and testing need, skipping whatever is already there, so that it is
# cheap to run before every build. Usage: scripts/ensure-tools.sh [--fuzz] [--browser] [--store]
#   --fuzz     only nightly Rust and cargo-fuzz, for `make fuzz` (nothing else unless combined).
#   --browser  also Debian's Chromium, for the browser tests.
#   --store    also Debian's redis-server and prometheus (for promtool), for the shared-store
#              and metrics tests.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[tools] %s\n' "$*"; }

fuzz=; browser=; store=
for arg in "$@"; do
  case "$arg" in
    --fuzz) fuzz=1 ;;
    --browser) browser=1 ;;
    --store) store=1 ;;
    *) say "unknown flag: $arg (usage: $0 [--fuzz] [--browser] [--store])"; exit 2 ;;
  esac
done

if [ -n "$fuzz" ]; then
  if ! rustup toolchain list | grep -q '^nightly'; then
    say "installing nightly Rust (minimal profile)"
    rustup toolchain install nightly --profile minimal
  fi
  if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz (takes a few minutes)"
    cargo install cargo-fuzz
  fi
  # --fuzz alone needs nothing else.
  [ -n "$browser$store" ] || exit 0
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
# the benchmark compares against, and the test-only clients and servers (redis, ioredis,
# prom-client, oidc-provider). Reinstalled only when package-lock.json changed.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dev dependencies"
  npm ci --no-audit --no-fund
fi

# Debian packages: whatever is missing, in one apt run (one `apt-get update`).
browser_pkgs=()
store_pkgs=()
if [ -n "$browser" ] && [ ! -x /usr/bin/chromium ]; then
  browser_pkgs+=(chromium)
fi
if [ -n "$store" ]; then
  # redis-server: a real server per test (tests/support/redis-server.js), never the system one.
  command -v redis-server >/dev/null 2>&1 || store_pkgs+=(redis-server)
  # promtool (check metrics) ships only in Debian's prometheus package.
  command -v promtool >/dev/null 2>&1 || store_pkgs+=(prometheus)
fi
apt_pkgs=("${browser_pkgs[@]}" "${store_pkgs[@]}")
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  say "installing Debian's ${apt_pkgs[*]}"
  for attempt in 1 2 3 4 5; do
    # Another apt may hold the lock for a while: retry rather than fail. The store packages go
    # without their recommends, which would add prometheus-node-exporter, a service nothing uses.
    if apt-get update -q \
      && { [ "${#browser_pkgs[@]}" -eq 0 ] || apt-get install -y -q "${browser_pkgs[@]}"; } \
      && { [ "${#store_pkgs[@]}" -eq 0 ] || apt-get install -y -q --no-install-recommends "${store_pkgs[@]}"; }; then
      break
    fi
    [ "$attempt" = 5 ] && { say "could not install ${apt_pkgs[*]}"; exit 1; }
    sleep 10
  done
fi
