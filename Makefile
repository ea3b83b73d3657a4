# Thin convenience over the go command; plain `go test ./...` works too.
GO       ?= go
BIN      ?= bin/gotrace
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -X main.version=$(VERSION)
FUZZTIME ?= 60s

.PHONY: build test unit race-parts race-pkgs race-at race-cmd race-parquet test-race test-parquet golden fuzz bench pgo lint demo diff-traces clean

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/gotrace

# test runs every test, and beside it the race detector over the code that
# runs goroutines of its own: stats' and the timeline's analysis in parts
# (stats' parts read through internal/order's reader, which frames on a
# goroutine of its own),
# the timeline's Pipe (reading on one goroutine, the analysis on another),
# decode's parallel reader, pprof's per-generation profiles, export's
# generations read per worker (-short leaves out recording the stress
# program and export's big traces), all of record, outfile, bench and the
# terminal viewer (which reads in the background), drill's at (which reads
# the generation before the instant's beside it) on traces of several
# generations, its answers read through the Pipe and its goroutine list
# read a generation per core, and the commands
# that stream between goroutines, draw progress, get interrupted, export
# a trace per core or walk one (decode --summary). test-race is everything
# under it.
RACE_RUN  := Parallel|Parts|Progress|OrderedPass|Damage|Pipe
RACE_PKGS := ./internal/stats ./internal/decode ./internal/timeline ./internal/pprof ./internal/export
RACE_AT   := TestAtMatchesXExp/(leaky|go122-gc-stress|go122-task-across-generations|go122-confuse-seq)|TestTasksIn|TestWhySlowestRequest|TestGoroutinesFilters|TestGoroutinesInParts|TestLivesLifeTrace

test:
	$(GO) vet ./...
	$(MAKE) --no-print-directory -j3 -O unit race-parts race-pkgs race-at race-cmd race-parquet

# The tests, and the race detector's runs, one go test each, run side by
# side (-O prints each one's output whole when it ends): each race run is
# mostly one package's tests on one core. The tests hold whole traces
# decoded, and read back, in memory: collecting garbage less often
# (GOGC=300) takes about a sixth off their CPU time. The test that
# measures a command's peak RSS runs it with the default.
unit:
	GOGC=300 $(GO) test ./...
race-parts:
	$(GO) test -race -short -run '$(RACE_RUN)' $(RACE_PKGS)
race-pkgs:
	$(GO) test -race -short ./internal/record ./internal/outfile ./internal/bench ./internal/view
race-at:
	$(GO) test -race -short -run '$(RACE_AT)' ./internal/drill
race-cmd:
	$(GO) test -race -run 'Progress|Interrupt|Record|SplitFiles|DecodeSummary' ./cmd/gotrace
race-parquet:
	$(GO) test -race -run 'Script/export_parquet' ./cmd/gotrace

test-race:
	$(GO) test -race ./...

# test-parquet checks the Parquet tables of export with DuckDB, in a module
# of its own (parquettest): the DuckDB driver needs cgo, gotrace does not.
# Its first build compiles and links DuckDB's library, which takes a while.
test-parquet:
	cd parquettest && $(GO) test -count=1 ./...

# Rewrite golden files from the current output.
golden:
	$(GO) test ./... -run 'Golden|Script' -update

# FuzzDecode, then FuzzStats and FuzzOrder, FUZZTIME each. Minimizing each new
# interesting input may take the -fuzzminimizetime default (60s) of a short
# run; 5s is enough to shrink a crasher.
fuzz:
	$(GO) test ./internal/decode -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/stats -run '^$$' -fuzz '^FuzzStats$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s
	$(GO) test ./internal/order -run '^$$' -fuzz '^FuzzOrder$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 5s

# Builds gotrace itself and, on first use, the two traces it measures on
# (testdata/bench/stress.trace and service.trace); BENCHFLAGS passes flags,
# e.g. BENCHFLAGS='-count 3' or BENCHFLAGS='-skip service'.
bench:
	$(GO) run ./internal/bench/cmd/benchall $(BENCHFLAGS)

# gotrace is built with profile-guided optimization from
# cmd/gotrace/default.pgo, a CPU profile of its heaviest work (stats,
# decode, pprof and export on the stress trace). This writes it again; make bench generates
# the trace first.
pgo:
	$(GO) test ./cmd/gotrace -run '^TestWriteProfile$$' -count=1 -args -pgo-out=$(CURDIR)/cmd/gotrace/default.pgo

lint:
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# Record a bundled program with three problems in it (a hot lock, an
# allocation-heavy loop, a leaked goroutine), then report on its trace.
demo: build
	$(BIN) record --cpu -o bin/demo.trace ./testdata/progs/hotspots
	$(BIN) stats --top 5 bin/demo.trace

# Record again the traces gotrace diff's tests read (testdata/diff): the
# regress program as written and with each regression injected, five runs
# of each, interleaved so that the machine's load falls on every side
# alike; five more as written, later, whose load is another (noise, which
# diff must not call a change); then two runs as written built with Go
# 1.27, whose closures are named differently.
DIFF_RECORD = record --cpu --build-flags '-trimpath'
diff-traces: build
	mkdir -p testdata/diff
	for i in 1 2 3 4 5; do for v in base lock alloc leak; do \
		$(BIN) $(DIFF_RECORD) -o testdata/diff/$$v-$$i.trace ./testdata/progs/regress -- -inject=$${v#base} || exit 1; \
	done; done
	for i in 1 2 3 4 5; do \
		$(BIN) $(DIFF_RECORD) -o testdata/diff/again-$$i.trace ./testdata/progs/regress || exit 1; \
	done
	for i in 1 2; do \
		GOTOOLCHAIN=go1.27.3 $(BIN) $(DIFF_RECORD) -o testdata/diff/go127-$$i.trace ./testdata/progs/regress || exit 1; \
	done

clean:
	rm -rf bin
	$(GO) clean -testcache
