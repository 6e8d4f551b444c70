# Targets match what CI runs (.ci/run: lint, test, then the demo as a smoke test).
# Variables: TESTFLAGS (extra go test flags), FUZZTIME (per fuzz target),
# STRESSFLAGS (flags of "oneiric stress", see: go run ./cmd/oneiric help stress).

GO          ?= go
TESTFLAGS   ?=
FUZZTIME    ?= 60s
STRESSFLAGS ?=
COVERPROFILE ?= out/cover.out

.DEFAULT_GOAL := test
.PHONY: test test-wasm test-32bit race test-long bench profile fuzz lint cover stress demo

## test: every test, with the race detector; then the linearizability proof in
## full (200 histories a check; under -race it records 10) without it, and
## the regtest self-checks (the checker flags deliberate bugs; lock order)
## at GOMAXPROCS 1 and 2
test:
	$(GO) test -race $(TESTFLAGS) ./...
	$(GO) test -count=1 -run 'Linearizable' $(TESTFLAGS) ./registry
	$(GO) test -count=1 -tags regtest -cpu 1,2 -run 'Catches|LockOrder' $(TESTFLAGS) ./registry ./shard

## test-wasm: package shard's tests on js/wasm under Node.js, where the
## runtime's string hash has 32 bits and a uintptr 64 (shard/hash.go)
test-wasm:
	GOOS=js GOARCH=wasm $(GO) test -count=1 -exec "$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" $(TESTFLAGS) ./shard

## test-32bit: the packages whose counts depend on int's size (domain's
## metadata limits saturate rather than wrap), built for 32-bit ARM and run
## under qemu-arm (Debian's qemu-user); 386 binaries cannot run on this kernel
test-32bit:
	GOARCH=arm GOARM=7 $(GO) test -count=1 -exec qemu-arm $(TESTFLAGS) ./domain ./explain ./sequence

## race: the same as test
race: test

## test-long: uncached, at GOMAXPROCS 1, 2 and 4, in random order; then the
## rapid model test at 1,000 checks of 100 steps
test-long:
	$(GO) test -race -count=1 -cpu 1,2,4 -shuffle=on $(TESTFLAGS) ./...
	RAPID_CHECKS=1000 RAPID_STEPS=100 $(GO) test -count=1 -run 'TestRegistryMatchesModel' $(TESTFLAGS) ./registry

## bench: the figures of docs/benchmarks.md (package bench, about 10 minutes on
## 2 cores). Six passes, each with one run of every benchmark: the parallel
## ones at -cpu 1,2,4 (with BenchmarkMachine, what the machine itself gives a
## loop of random loads), then the single-goroutine ones (with the map floor)
## at -cpu 1. Passes rather than -count 6 interleave the implementations in time,
## so load from other processes falls on all of them alike. Into bench.txt;
## the benchstat tables into benchstat.txt; issue 4's targets, each with its
## figure and per-pass figures, into targets.md; the chart into docs/scaling.svg.
## BENCHTIME (default 200ms) and BENCHCOUNT (passes, default 6) override.
bench:
	@rm -f bench.txt
	@for i in $$(seq $(or $(BENCHCOUNT),6)); do \
		echo "bench: pass $$i of $(or $(BENCHCOUNT),6)" >&2; \
		$(GO) test -run '^$$' -bench 'Resolve$$|Mix|Writers|Machine' -benchmem -cpu 1,2,4 -count 1 \
			-benchtime $(or $(BENCHTIME),200ms) -timeout 30m ./bench 2>&1 | tee -a bench.txt; \
		$(GO) test -run '^$$' -bench 'ResolveSerial|Register|Load|ListActive|ListAfterWrite|Explain|Snapshot|Chase' -benchmem -cpu 1 -count 1 \
			-benchtime $(or $(BENCHTIME),200ms) -timeout 30m ./bench 2>&1 | tee -a bench.txt; \
	done
	@! grep -E '^(FAIL|--- FAIL|panic:)' bench.txt
	$(GO) run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da -col /impl bench.txt > benchstat.txt
	$(GO) run ./internal/benchchart < bench.txt > docs/scaling.svg
	$(GO) run ./internal/benchtargets < bench.txt > targets.md
	@echo "bench: wrote bench.txt, benchstat.txt, targets.md and docs/scaling.svg"

## profile: CPU, mutex and block profiles of a contended benchmark, the 90/10
## Resolve/Register mix on one hot domain at -cpu 2 (PROFILE_IMPL=registry by
## default; seed-mutex for the baseline), into out/, then pprof -top of each;
## the block profile is focused on waits for a mutex (the rest is the
## benchmark harness waiting for its goroutines).
profile:
	@mkdir -p out
	$(GO) test -run '^$$' -bench 'Mix/read=90/dist=hot/impl=$(or $(PROFILE_IMPL),registry)$$' -benchmem -cpu 2 -count 1 \
		-benchtime 3s -o out/bench.test -cpuprofile out/cpu.prof -mutexprofile out/mutex.prof \
		-mutexprofilefraction 1 -blockprofile out/block.prof -blockprofilerate 1 ./bench
	$(GO) tool pprof -top -nodecount 25 out/bench.test out/cpu.prof
	$(GO) tool pprof -top -nodecount 15 out/bench.test out/mutex.prof
	$(GO) tool pprof -top -nodecount 15 -focus 'sync\.\(\*(RW)?Mutex\)' out/bench.test out/block.prof

## fuzz: every Fuzz target of every package for FUZZTIME each; nothing to do if there are none
fuzz:
	@set -eu; \
	for pkg in $$($(GO) list ./...); do \
		targets=$$($(GO) test -list '^Fuzz' "$$pkg" | grep '^Fuzz' || true); \
		for t in $$targets; do \
			echo "fuzz: $$pkg $$t for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

## lint: go vet, and gofmt must have nothing to change
lint:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$unformatted"; exit 1; fi

## cover: tests with a coverage profile (out/cover.out) and the total
cover:
	@mkdir -p $(dir $(COVERPROFILE))
	$(GO) test -coverprofile=$(COVERPROFILE) ./...
	$(GO) tool cover -func=$(COVERPROFILE) | tail -n 1

## stress: the stress command with its defaults (about 10 s)
stress:
	$(GO) run ./cmd/oneiric stress $(STRESSFLAGS)

## demo: the newcomer's tour
demo:
	$(GO) run ./cmd/oneiric demo
