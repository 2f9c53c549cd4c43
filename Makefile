# uwsgo: `make run` serves examples/hello.py on :9090; `make test` runs every test.
GO      ?= go
BIN     := uwsgo
FUZZTIME ?= 10s

.PHONY: all build lib deps run test unit e2e fuzz vet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/uwsgo

# Library mode: libuwsgo.so for a running PyPy to load; start it with bin/uwsgo-pypy.
lib:
	$(GO) build -buildmode=c-shared -o libuwsgo.so ./cmd/libuwsgo

deps:
	./scripts/install-deps

run: deps build
	./$(BIN) --http-socket :9090 --pypy-wsgi-file examples/hello.py

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

# The end-to-end suite twice: on the host's PyPy (Debian 12: 3.9), then on Debian 13's PyPy
# 3.11 in a trixie root that scripts/e2e-root makes with debootstrap once and caches.
e2e: build
	$(GO) test -count=1 -timeout 30m ./e2e/
	./scripts/e2e-root

# A short run of each fuzz target keeps them working; a long one is `make fuzz FUZZTIME=10m`.
# `make test` counts executions rather than seconds: Go 1.26's fuzz coordinator can report a
# spurious "context deadline exceeded" as a duration ends (go.dev/issue/75804, fixed in 1.27).
FUZZPKGS := ./internal/proto/ ./internal/static/
fuzz:
	@for p in $(FUZZPKGS); do \
		for f in $$($(GO) test -list '^Fuzz' $$p | grep ^Fuzz); do \
			echo "fuzz $$p $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$p || exit 1; \
		done; \
	done

# The benchmark harness runs once in smoke mode so that it keeps working; no number is asserted.
test: deps vet unit e2e
	$(MAKE) fuzz FUZZTIME=200000x
	$(MAKE) bench-smoke

clean:
	rm -f $(BIN) libuwsgo.so libuwsgo.h

# Benchmarks: bench/ is its own Go module (gonum/plot stays out of uwsgo's). `make test`
# runs only the smoke mode. `make bench` makes the Debian trixie root of the PyPy 3.11 servers
# when it is missing (scripts/trixie-root) and writes bench/results/latest.{md,png,json} (about
# three hours on 2 CPUs; BENCHFLAGS="-apps hello,gen,flask,django -workers 1 -duration 5s" for less);
# `make bench-smoke` checks the harness in about two minutes, asserting nothing on numbers, and
# skips the trixie root's servers when the root is not there.
.PHONY: bench bench-smoke
bench:
	./bench/install-deps --trixie-root
	cd bench && $(GO) run . $(BENCHFLAGS)
	$(MAKE) bench-prefork

bench-smoke:
	./bench/install-deps
	cd bench && $(GO) run . -smoke $(BENCHFLAGS)

# Static files (--static-map) against nginx and uWSGI's static-map: bench/static, a few
# minutes; BENCHSTATICFLAGS="-duration 3s -rounds 1" for less. nginx comes from scripts/install-deps.
.PHONY: bench-static
bench-static: build
	./bench/install-deps
	cd bench && $(GO) run ./static -uwsgo ../$(BIN) $(BENCHSTATICFLAGS)

# Pre-fork against --lazy-apps: respawn time, a fresh worker's first requests with and
# without --warmup, private memory per worker, and its curve under 10 minutes of load with
# PyPy's GC settings (bench/prefork; about 40 minutes). BENCHPREFORKFLAGS="-smoke" checks it works.
.PHONY: bench-prefork
bench-prefork:
	cd bench && $(GO) run ./prefork $(BENCHPREFORKFLAGS)

# Soak: 30 minutes of steady mixed load; bench/results/soak.md says whether memory and
# descriptors level off (SOAKFLAGS="-duration 1m" to check that it works). Not a test.
.PHONY: soak
soak:
	cd bench && $(GO) run ./soak $(SOAKFLAGS)
