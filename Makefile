# modulo: `make run` builds and runs the quickstart pipeline; `make test` runs every test.
# Both work on a fresh machine with only Go, gcc, git and apt: what else they need they
# install themselves (Go modules with the go command, Debian packages with apt-get as root).

GO      ?= go
BIN     := bin/modulo
PKGS    := ./...
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: all build run test check fmt-check vet bench bench-engine fuzz deps clean

all: build

deps:
	$(GO) mod download

build: deps
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/modulo

run: build
	@if [ -f examples/quickstart.hcl ]; then \
		./$(BIN) run examples/quickstart.hcl; \
	else \
		echo "Built $(BIN). modulo has no stage kinds yet (train arrives with the numerics), so there is no quickstart to run."; \
		./$(BIN) help; \
	fi

test: deps
	$(GO) test -count=1 $(PKGS)

check: fmt-check vet test

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

bench: bench-engine

# The engine's overhead: plan and no-op run of a 10,000-node pipeline, and a 1,000-job DAG
# side by side with Snakemake (installed from Debian when missing and running as root).
bench-engine: deps
	$(GO) test -run '^$$' -bench . -benchtime 3x ./pipelines/ ./dag/
	bash scripts/bench-snakemake.sh

# Fuzz the loader and the blob decoder (FUZZTIME each).
FUZZTIME ?= 5m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./pipelines/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./artifacts/

clean:
	rm -rf bin
