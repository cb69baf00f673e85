# The README opens with the first two targets; each installs what is missing, then runs.
#   make demo   build the package and run the demo against a local issuer on 127.0.0.1
#   make test   build and run every test: Rust core, Node, TypeScript, package, workerd, Chromium
#   make bench  hit path and cold herd, side by side with jose, jwks-rsa and get-jwks; worst-case cost of one response
.PHONY: demo test bench build tools tools-browser

demo: build
	node examples/demo.js

test: tools-browser build
	cargo test --locked
	node --test tests/node/ tests/workerd/ tests/browser/

bench: build
	node bench/hit-path.js
	node bench/worst-case.js

build: tools
	scripts/build-package.sh

tools:
	scripts/ensure-tools.sh

tools-browser:
	scripts/ensure-tools.sh --browser
