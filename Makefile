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

test: deps vet unit e2e
	$(MAKE) fuzz FUZZTIME=5s

clean:
	rm -f $(BIN) libuwsgo.so libuwsgo.h
