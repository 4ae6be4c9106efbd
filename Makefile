# calaim-gateway. On a fresh machine: `make demo` runs the main job on the
# embedded defaults; `make test` installs what the tests need and runs them.
GO          ?= go
BIN         := bin/calgw
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
# Fuzz budgets are execution counts, not durations: a -fuzztime duration
# races Go's fuzz coordinator (golang/go#75804, fixed in Go 1.27) and fails
# with "context deadline exceeded" and no crasher on a loaded machine.
# FUZZSCALE multiplies every target's count (e.g. FUZZSCALE=10 locally).
FUZZSCALE   ?= 1
BENCH_LINES ?= 1000000
BENCH_MEMBERS ?= 1000000
BENCH_WEB_FILES ?= 1000000
BENCH_WEB_LINES ?= 10000000
# The web console's load test runs on each engine listed (PostgreSQL as the
# tests start it); bench-web-quick runs it on a small seed for a quick check.
BENCH_WEB_ENGINES ?= sqlite postgres
BENCH_WEB_DURATION ?= 30s
BENCH_MLLP_MESSAGES ?= 20000

# Fuzz targets: package:FuzzName:executions, each sized to about ten
# seconds on a 2-core machine.
FUZZ_TARGETS := \
	./mappings/invoice:FuzzInvoiceReader:20000 \
	./edi/x12:FuzzReader:150000 \
	./edi/x12/ig:FuzzValidate:100000 \
	./edi/tabular:FuzzXLSX:8000 \
	./mappings/enrollment:FuzzMapper834:100000 \
	./mappings/authfeed:FuzzJSONLinesFeed:10000 \
	./mappings/roster:FuzzRosterReader:30000 \
	./edi/hl7:FuzzReader:100000 \
	./pipelines/inbound837:FuzzEdit:20000 \
	./edi/evr:FuzzRead:80000 \
	./transport/mllp:FuzzFrameReader:50000 \
	./transport/mllp:FuzzReadFrame:60000 \
	./mappings/adt:FuzzMap:100000 \
	./edi/x12/x999:FuzzRead:80000 \
	./edi/x12/x277ca:FuzzReadResponse:80000 \
	./pipelines/ingest:FuzzLoadResponses:1000 \
	./pipelines/gateway:FuzzConvert:500 \
	./pipelines/ingest:FuzzIngest834:100 \
	./pipelines/providerfile:FuzzRosterTo274:100

.PHONY: all build release verify-deploy demo test test-deps vet unit fuzz bench bench-web bench-web-quick lint tidy-check clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/calgw

# release: a static binary (no cgo: modernc SQLite is pure Go) without local
# paths or debug symbols, that `calgw version` names by its git version.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
release:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/calgw

# verify-deploy: systemd-analyze verify of deploy/calgw.service against the
# release binary, and the checks on deploy/Dockerfile.
verify-deploy: release
	./scripts/verify-deploy.sh $(BIN)

demo: build
	./$(BIN) demo

# test: go vet, every test with the race detector (real SFTP, S3 and
# PostgreSQL servers included), and a short run of each fuzzer.
test: test-deps vet unit fuzz

test-deps:
	./scripts/install-test-deps.sh

vet:
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 -timeout 15m ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; n=$$(( $${rest#*:} * $(FUZZSCALE) )); \
		echo "fuzz $$name ($$pkg, $${n}x)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime "$${n}x" -fuzzminimizetime 200x $$pkg; \
	done

# bench: Go benchmarks of the codecs, then the end-to-end figures with
# /usr/bin/time -v, each next to a baseline measured in the same run.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./edi/... ./store/... ./pipelines/providerfile ./mappings/enrollment ./pipelines/inbound837
	$(GO) run ./internal/tools/bench -lines $(BENCH_LINES) -members $(BENCH_MEMBERS) -calgw $(BIN)
	$(MAKE) bench-web
	$(GO) run ./internal/tools/mllpload -calgw $(BIN) -messages $(BENCH_MLLP_MESSAGES)

# bench-web: the console's load test (internal/tools/webbench) on each of
# BENCH_WEB_ENGINES, every engine run even when one fails.
bench-web:
	@status=0; for e in $(BENCH_WEB_ENGINES); do \
		$(GO) run ./internal/tools/webbench -engine $$e -files $(BENCH_WEB_FILES) -lines $(BENCH_WEB_LINES) -users 50 -duration $(BENCH_WEB_DURATION) || status=1; \
	done; exit $$status

# bench-web-quick: the same on 20,000 files and 200,000 lines for 10 s (its
# own seeds, under bench-out/web-quick*).
bench-web-quick:
	@status=0; for e in $(BENCH_WEB_ENGINES); do \
		$(GO) run ./internal/tools/webbench -engine $$e -files 20000 -lines 200000 -users 50 -duration 10s -dir bench-out/web-quick-$$e || status=1; \
	done; exit $$status

# lint: go vet, gofmt, go.mod/go.sum tidy (direct dependencies listed as
# direct, nothing missing or left over) and staticcheck.
lint: vet tidy-check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...

# tidy-check fails, printing the diff, when `go mod tidy` would change go.mod or go.sum.
tidy-check:
	$(GO) mod tidy -diff

clean:
	rm -rf bin demo-out bench-out

# mutants: every mutation of internal/tools/mutants/mutations.txt must be
# killed by the tests (nightly-style full run); mutants-changed runs those
# of the files changed since origin/main (else main), for CI.
.PHONY: mutants mutants-changed
mutants:
	$(GO) run ./internal/tools/mutants

mutants-changed:
	$(GO) run ./internal/tools/mutants -changed

# hostile: the hostile-input tests (docs/hostile-input.md), then calgw over
# generated hostile files of HOSTILE_MB each, failing past the RSS bound.
HOSTILE_MB ?= 100
HOSTILE_TESTS := TestCSVLimits|TestLimits|TestLimitsAtTheBound|TestPartCountsInflatedBytes|TestMaxLoopSegments|TestLimitsRefuseTheFile|TestValidateLimits|TestIngestLimits|TestCheckInvoiceNumber|TestUnsafeInvoiceNumbersNeverReachCLM01|TestRejectsAreFormulaSafe|TestSignals|TestCrashRestartPoisonFileIsQuarantined|TestLongFileNamesAreProcessedAndAnswered|TestHalfWrittenUploadWaitsUntilComplete|TestSourceChangedAfterProcessingIsReported|TestLeftoverTemporaryCopiesAreRemovedAtStart|TestOddNamesAndEntriesAreReported|TestFeedWithoutHeaderEchoesNoRow|TestUnknownLayoutEchoesNoRow|TestSQLiteSyncsEveryCommit|TestSFTPFileMode|TestPostgresRestartingDatabaseIsRetriedWithBackoff|TestSenderIsToldOfQuarantineAndDuplicate|TestRosterLimits|TestRowsWithinLimits|TestFeedLimits|TestDirectorySyncedBeforeTheFileCounts|TestDecodeAllWithinMaxProblems|TestStateDirectoryNamedWithURICharacters
.PHONY: hostile
hostile: build
	$(GO) test -count=1 -run '^($(HOSTILE_TESTS))$$' ./edi/tabular ./edi/x12/ig ./rules ./report ./store ./transport ./pipelines/encounters ./pipelines/validate ./pipelines/ingest ./pipelines/daemon ./cmd/calgw ./pipelines/contracts ./mappings/authfeed ./internal/atomicfile ./mappings/roster
	$(GO) run ./internal/tools/hostile -calgw $(BIN) -mb $(HOSTILE_MB)

# schemas-doc: the monthly monitoring JSON's data dictionary from schemas/
# (internal/tools/schemadoc; its test fails when the committed file is stale).
.PHONY: schemas-doc
schemas-doc:
	$(GO) run ./internal/tools/schemadoc -out docs/monitoring-json.md
