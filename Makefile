# The README opens with the first two targets; each installs what is missing, then runs.
#   make demo   build the package and run the demo against a local issuer on 127.0.0.1
#   make test   build and run every test: Rust core, Node, TypeScript, package, workerd, Chromium
#   make bench  hit path and cold herd, side by side with jose, jwks-rsa and get-jwks; worst-case cost of one response;
#               verify ops/s per algorithm beside jose, jwks-rsa + jsonwebtoken and raw node:crypto, and in workerd;
#               resilience (flood of unknown kids, rotations, issuer outage) beside jose, jwks-rsa and get-jwks
#   make inspector  build, then serve the token inspector page (inspector/) on 127.0.0.1 beside a sample issuer
#   make fuzz   cargo fuzz on reading a JWKS body, then a token (FUZZ_SECONDS each, default 120)
.PHONY: demo test bench fuzz build tools tools-test inspector

demo: build
	node examples/demo.js

inspector: build
	node scripts/inspector.js

test: tools-test build
	cargo test --locked
	node --test tests/node/ tests/workerd/ tests/browser/

bench: build
	node bench/hit-path.js
	node bench/worst-case.js
	node bench/verify.js
	node bench/verify-workerd.js
	node bench/resilience.js
	node bench/http.js

FUZZ_SECONDS ?= 120
fuzz:
	scripts/ensure-tools.sh --fuzz
	mkdir -p fuzz/corpus
	mkdir -p fuzz/corpus-token
	cd fuzz && cargo +nightly fuzz run from_body corpus seeds -- -max_total_time=$(FUZZ_SECONDS)
	cd fuzz && cargo +nightly fuzz run token corpus-token seeds-token -- -max_total_time=$(FUZZ_SECONDS)

build: tools
	scripts/build-package.sh

tools:
	scripts/ensure-tools.sh

# Chromium for the browser tests; redis-server and promtool for the store and metrics tests.
tools-test:
	scripts/ensure-tools.sh --browser --store
