# Targets match what CI runs (.ci/run: lint, test, then the demo as a smoke test).
# Variables: TESTFLAGS (extra go test flags), FUZZTIME (per fuzz target),
# STRESSFLAGS (flags of "oneiric stress", see: go run ./cmd/oneiric help stress).

GO          ?= go
TESTFLAGS   ?=
FUZZTIME    ?= 60s
STRESSFLAGS ?=
COVERPROFILE ?= out/cover.out

.DEFAULT_GOAL := test
.PHONY: test race test-long bench fuzz lint cover stress demo

## test: every test, with the race detector
test:
	$(GO) test -race $(TESTFLAGS) ./...

## race: the same as test
race: test

## test-long: uncached, at GOMAXPROCS 1, 2 and 4, in random order
test-long:
	$(GO) test -race -count=1 -cpu 1,2,4 -shuffle=on $(TESTFLAGS) ./...

## bench: every benchmark, 6 runs each (for benchstat), into bench.txt
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./... | tee bench.txt

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
