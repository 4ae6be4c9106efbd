# calaim-gateway. On a fresh machine: `make demo` runs the main job on the
# embedded defaults; `make test` installs what the tests need and runs them.
GO          ?= go
BIN         := bin/calgw
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
FUZZTIME    ?= 10s
BENCH_LINES ?= 1000000

# Fuzz targets: package:FuzzName. Each runs for FUZZTIME in `make test`.
FUZZ_TARGETS := \
	./mappings/invoice:FuzzInvoiceReader \
	./edi/x12:FuzzReader \
	./edi/x12/ig:FuzzValidate

.PHONY: all build demo test test-deps vet unit fuzz bench lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/calgw

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
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$name ($$pkg, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s $$pkg; \
	done

# bench: Go benchmarks of the codecs, then the end-to-end figures with
# /usr/bin/time -v, each next to a baseline measured in the same run.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./edi/... ./store/...
	$(GO) run ./internal/tools/bench -lines $(BENCH_LINES) -calgw $(BIN)

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...

clean:
	rm -rf bin demo-out bench-out
