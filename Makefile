# shoal: the two commands a new user needs are `make lab` and `make test`.
GO ?= go
BIN := bin/shoal
# containerd's client imports Go's plugin package unless built with
# no_dynamic_plugins; shoal loads no plugins, and with it linked every
# symbol is exported dynamically: a 52 MB binary instead of 38 MB and about
# 9 MB more resident memory per agent. Every build of the binary uses it
# (deploy/lab/quickstart.sh and e2e/lab_test.go too).
export BUILDTAGS := no_dynamic_plugins
# The shipped binary carries no DWARF or symbol table (-s -w; stack traces
# and profiles still name functions) and no build paths: 44 MB instead of
# 63 MB to copy to every machine. Resident memory is the same either way
# (the dropped sections are never paged in).
BUILDFLAGS := -trimpath -ldflags=-s\ -w
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: build lab lab-down test unit e2e vet deps chaos load

build:
	$(GO) build $(BUILDFLAGS) -tags $(BUILDTAGS) -o $(BIN) ./cmd/shoal

# Installs what a fresh Debian machine lacks, builds shoal and brings up a
# 3-node lab fleet with a pod running on it.
lab:
	./deploy/lab/quickstart.sh

lab-down:
	./$(BIN) lab down demo

# The whole test suite: vet, unit tests (with the race detector on the
# packages with goroutines) and the end-to-end tests against a real lab.
test: vet unit e2e

deps:
	./deploy/lab/install-deps.sh

vet:
	$(GO) vet ./...
	cd e2e/clientgo && $(GO) vet ./...
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting" && exit 1)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -tags $(BUILDTAGS) ./...

unit:
	$(GO) test -count=1 ./api/... ./placement/...
	$(GO) test -count=1 -race ./consensus/... ./netplane/... ./podruntime/... ./agent/... ./deploy/... ./cmd/...

e2e:
	SHOAL_E2E=1 $(GO) test -count=1 -v -timeout 45m ./e2e/...

# The long chaos runs (docs/chaos.md): for each seed a 5-node lab, a seeded
# fault schedule, invariants checked all along and the clients' history
# checked for linearizability; every seed runs, then it exits non-zero
# naming the seeds that had a violation. As root. One seed for longer:
# make chaos CHAOS_SEEDS=42 CHAOS_DURATION=30m
CHAOS_SEEDS ?= $(shell seq 1 20)
CHAOS_DURATION ?= 3m
chaos: build
	@failed=""; for s in $(CHAOS_SEEDS); do \
		echo "== chaos seed $$s, $(CHAOS_DURATION)"; \
		./$(BIN) lab chaos chaos$$s --seed $$s --duration $(CHAOS_DURATION) || failed="$$failed $$s"; \
	done; \
	if [ -n "$$failed" ]; then echo "chaos: violations or failures with seeds:$$failed"; exit 1; fi; \
	echo "chaos: seeds $(CHAOS_SEEDS): no violation"

# 1,000 pods on a 5-node lab, scaled to 0 and back (SHOAL_LOAD_PODS=N for
# fewer). Long: not part of `make test`. As root.
load:
	SHOAL_E2E=1 SHOAL_LOAD=1 $(GO) test -count=1 -v -run 'TestLoad$$' -timeout 120m ./e2e/

# Benchmarks (not part of test): bench runs all of them and rewrites
# BENCHMARKS.md; bench-lab only the lab ones (root); bench-ref the same
# measurements on Docker Swarm, Nomad (when bench/nomad-build.sh has built
# it) and etcd for comparison (root; installs docker.io and etcd-server).
# See bench/run.sh.
.PHONY: bench bench-lab bench-ref
bench:
	./bench/run.sh all

bench-lab:
	./bench/run.sh lab

bench-ref:
	./bench/run.sh ref

# The scale report (issue 23, docs/scale.md): fleets of SCALE_NODES hollow
# agents in one process on loopback, SCALE_PODS_PER_NODE pods per node and
# an idle soak of SCALE_SOAK (GOGC=400: one heap holds every agent). The
# run writes its lines to a file of its own; only when it passed (every
# size formed and finished every step) are they added to
# bench/results/scale.jsonl, whose earlier runs stay (bench/report shows
# each size's runs), and BENCHMARKS.md regenerated. A failed run leaves
# both as they were (its lines stay in bench/scale-failed.jsonl to read).
# No root, no containerd.
SCALE_NODES ?= 100,300
SCALE_PODS_PER_NODE ?= 10
SCALE_SOAK ?= 120s
SCALE_NEW := bench/scale-new.jsonl
.PHONY: bench-scale
bench-scale:
	rm -f $(SCALE_NEW)
	GOGC=400 SHOAL_SCALE_NODES=$(SCALE_NODES) SHOAL_SCALE_PODS_PER_NODE=$(SCALE_PODS_PER_NODE) SHOAL_SCALE_SOAK=$(SCALE_SOAK) \
		SHOAL_BENCH_OUT=$(CURDIR)/$(SCALE_NEW) \
		$(GO) test -tags $(BUILDTAGS) -count=1 -v -run 'TestSimScale$$' -timeout 120m ./agent/ \
		|| { mv -f $(SCALE_NEW) bench/scale-failed.jsonl 2>/dev/null; echo "bench-scale: the run failed; bench/results/scale.jsonl kept as it was" >&2; exit 1; }
	cat $(SCALE_NEW) >> bench/results/scale.jsonl
	rm -f $(SCALE_NEW)
	$(GO) run ./bench/report -results bench/results -o BENCHMARKS.md

# Fuzzing (not part of test, whose unit run replays the checked-in seed
# corpora in */testdata/fuzz): each target searches for FUZZTIME. Minimizing
# a new input is capped short so the search keeps moving.
FUZZTIME ?= 30s
FUZZ_TARGETS := ./api:FuzzDecode ./api:FuzzDecodeObject ./consensus:FuzzApply ./consensus:FuzzApplyEntry ./consensus:FuzzApplyServices
.PHONY: fuzz
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
	done
