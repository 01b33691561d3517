# Cubit's developer commands. `make test` is the one command that runs every test; CI
# (.ci/run) calls it after starting PostgreSQL. DuckDB needs cgo, so every target enables it.

GO       ?= go
BIN      ?= bin/cubit
FUZZTIME ?= 15s
# Extra arguments for `cubit serve`, e.g. make run ARGS='--model ./model'.
ARGS     ?=

export CGO_ENABLED := 1

.PHONY: all build run web web-if-possible test test-go test-js test-web bench fuzz lint clean

all: lint test

build:
	$(GO) build -o $(BIN) ./cmd/cubit

# The web UI (web/, TypeScript built by Vite into web/dist, which the binary embeds). It is
# rebuilt when a source is newer than the build.
WEB_SRC := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/package.json web/package-lock.json web/vite.config.ts web/tsconfig.json
web/dist/index.html: $(wildcard $(WEB_SRC))
	cd web && npm ci --no-audit --no-fund && npm run build

web: web/dist/index.html

# make run builds the UI when node and npm are there; without them the binary serves a page
# at / that says how to build it, and every API works.
web-if-possible:
	@if command -v npm >/dev/null 2>&1 && [ -f web/package.json ]; then $(MAKE) --no-print-directory web; \
	else echo "web: node/npm not found: serving without the web UI (install Node 20 and run make web)"; fi

run: web-if-possible build
	./$(BIN) serve $(ARGS)

test: test-go test-js test-web

test-go:
	$(GO) test ./...

# Cube's own JS client (@cubejs-client/core, pinned in clients/js/package-lock.json) against a
# real `cubit serve`. Without node and npm it is skipped on a developer machine and fails
# under CI=true, like the other tests that need something installed.
test-js:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		if [ "$$CI" = true ]; then echo "test-js: node and npm are required (CI=true)" >&2; exit 1; fi; \
		echo "test-js: SKIPPED: node or npm not found; install Node 20 to run Cube's JS client test"; \
		exit 0; \
	fi; \
	set -e; \
	echo '$(GO) build -o $(BIN) ./cmd/cubit'; $(GO) build -o $(BIN) ./cmd/cubit; \
	cd clients/js; \
	echo 'cd clients/js && npm ci --no-audit --no-fund --ignore-scripts && node --test --test-reporter=spec'; \
	npm ci --no-audit --no-fund --ignore-scripts; \
	CUBIT_BIN='$(abspath $(BIN))' node --test --test-reporter=spec

# The web UI: unit tests (vitest), the size budget, and the end-to-end tests (Playwright in
# Debian's Chromium against a real `cubit serve` built with the UI). Without node and npm it is
# skipped on a developer machine and fails under CI=true.
test-web:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		if [ "$$CI" = true ]; then echo "test-web: node and npm are required (CI=true)" >&2; exit 1; fi; \
		echo "test-web: SKIPPED: node or npm not found; install Node 20 to run the UI tests"; \
		exit 0; \
	fi; \
	set -e; \
	$(MAKE) --no-print-directory web; \
	echo '$(GO) build -o $(BIN) ./cmd/cubit'; $(GO) build -o $(BIN) ./cmd/cubit; \
	cd web; \
	echo 'cd web && npm test && npm run e2e'; \
	npm test; \
	CUBIT_BIN='$(abspath $(BIN))' npm run e2e

# Benchmarks only (no tests), with allocations; narrow with make bench BENCH=LoadDemo.
BENCH ?= .
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...

# Runs every Fuzz target of the module for FUZZTIME each. `go test -list` prints a package's
# targets before its "ok <package>" line.
fuzz:
	@set -eu; \
	targets=$$($(GO) test -list '^Fuzz' ./... | awk '/^Fuzz/ { names = names " " $$1 } /^ok/ { if (names != "") print $$2 names; names = "" }'); \
	if [ -z "$$targets" ]; then echo "no Fuzz targets"; exit 0; fi; \
	echo "$$targets" | while read -r pkg names; do \
		for name in $$names; do \
			echo "== $$pkg $$name ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

lint:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	@if command -v staticcheck >/dev/null; then staticcheck ./...; \
	else echo "staticcheck not installed (go install honnef.co/go/tools/cmd/staticcheck@latest); skipped"; fi

clean:
	rm -rf bin
