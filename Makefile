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

e2e: build
	$(GO) test -count=1 -timeout 15m ./e2e/

# A short run of each fuzz target keeps them working; a long one is `make fuzz FUZZTIME=10m`.
fuzz:
	@for f in $$($(GO) test -list '^Fuzz' ./internal/proto/ | grep ^Fuzz); do \
		echo "fuzz $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./internal/proto/ || exit 1; \
	done

# The benchmark harness runs once in smoke mode so that it keeps working; no number is asserted.
test: deps vet unit e2e
	$(MAKE) fuzz FUZZTIME=5s
	$(MAKE) bench-smoke

clean:
	rm -f $(BIN) libuwsgo.so libuwsgo.h

# Benchmarks: bench/ is its own Go module (gonum/plot stays out of uwsgo's). `make test`
# runs only the smoke mode. `make bench` writes bench/results/latest.{md,png,json} (about an hour on 2 CPUs;
# BENCHFLAGS="-apps hello,mid -workers 1 -modes keepalive -duration 5s" for less);
# `make bench-smoke` checks the harness in under two minutes, asserting nothing on numbers.
.PHONY: bench bench-smoke
bench:
	./bench/install-deps
	cd bench && $(GO) run . $(BENCHFLAGS)

bench-smoke:
	./bench/install-deps
	cd bench && $(GO) run . -smoke $(BENCHFLAGS)

# Soak: 30 minutes of steady mixed load; bench/results/soak.md says whether memory and
# descriptors level off (SOAKFLAGS="-duration 1m" to check that it works). Not a test.
.PHONY: soak
soak:
	cd bench && $(GO) run ./soak $(SOAKFLAGS)
