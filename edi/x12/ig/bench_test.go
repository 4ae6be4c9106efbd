package ig_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/internal/x12test"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
)

// benchClaims is the size of the generated 837P: 200,000 claims make about
// 100 MB. X12_BENCH_CLAIMS overrides it.
func benchClaims() int {
	if n, err := strconv.Atoi(os.Getenv("X12_BENCH_CLAIMS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

var bench837P = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	if _, err := (x12test.Gen837P{Claims: benchClaims(), Seed: 1}).WriteTo(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
})

// The benchmarks below run over the same generated 837P so that their MB/s
// compare: two plain bufio scans for the segment terminator (ReadSlice, the
// floor any reader pays, and a ReadByte loop), the tokenizer, and the full
// validator.

func BenchmarkBaselineBufioScan(b *testing.B) {
	data := bench837P()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		br := bufio.NewReaderSize(bytes.NewReader(data), 64<<10)
		n := 0
		for {
			_, err := br.ReadSlice('~')
			if err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		if n == 0 {
			b.Fatal("no segments")
		}
	}
}

func BenchmarkBaselineBufioBytes(b *testing.B) {
	data := bench837P()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		br := bufio.NewReaderSize(bytes.NewReader(data), 64<<10)
		n := 0
		for {
			c, err := br.ReadByte()
			if err != nil {
				break
			}
			if c == '~' {
				n++
			}
		}
		if n == 0 {
			b.Fatal("no segments")
		}
	}
}

func BenchmarkTokenize837P(b *testing.B) {
	data := bench837P()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rd := x12.NewReader(bytes.NewReader(data))
		n := 0
		for {
			_, err := rd.Next()
			if err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		b.ReportMetric(float64(n), "segments/op")
	}
}

// BenchmarkValidate837P is the validator as it runs by default: with the
// input read and split on a second goroutine.
func BenchmarkValidate837P(b *testing.B) { benchValidate(b, ig.Options{}) }

// BenchmarkValidate837PSequential is the validator on one goroutine.
func BenchmarkValidate837PSequential(b *testing.B) { benchValidate(b, ig.Options{Sequential: true}) }

func benchValidate(b *testing.B, opts ig.Options) {
	data := bench837P()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	v := ig.NewValidator(opts)
	for b.Loop() {
		sum, err := v.Validate(context.Background(), bytes.NewReader(data))
		if err != nil || !sum.OK() {
			b.Fatalf("%+v %v", sum, err)
		}
		b.ReportMetric(float64(sum.Segments), "segments/op")
	}
}

// TestMemoryFlat checks that validation allocates per transaction set at
// most, not per segment or per byte: ten times the input costs no more
// allocations and no more than a few kilobytes more. Both with the input
// read ahead on a second goroutine (over 256 KB, as here) and without.
// It counts what the validator allocates (runtime.MemStats Mallocs and
// TotalAlloc, averaged over runs on one P as testing.AllocsPerRun does),
// never the memory in use, so the load of the machine does not change it.
func TestMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("generates about 10 MB")
	}
	input := func(claims int) []byte {
		var b bytes.Buffer
		if _, err := (x12test.Gen837P{Claims: claims, ClaimsPerSet: 1000, Seed: 3}).WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	small, large := input(2000), input(20000)
	// No collection during the measurements: one would empty the pool of
	// read-ahead batches that the warm-up filled, and the next run would
	// allocate them again (a test of the pool's luck, not of the validator).
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// One P: the read-ahead goroutine and the validator take turns, as in
	// testing.AllocsPerRun.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	const runs = 2
	for _, sequential := range []bool{true, false} {
		if !sequential && raceEnabled {
			t.Log("the race detector drops pooled memory at random: read-ahead's batches are not reused")
			continue
		}
		v := ig.NewValidator(ig.Options{Sequential: sequential})
		validate := func(data []byte) int64 {
			sum, err := v.Validate(context.Background(), bytes.NewReader(data))
			if err != nil || !sum.OK() {
				t.Fatalf("%+v %v", sum, err)
			}
			return sum.Segments
		}
		// allocated returns the mallocs and bytes of one validation of
		// data, averaged over runs after a warm-up.
		allocated := func(data []byte) (mallocs, bytes uint64, segs int64) {
			segs = validate(data) // warm up
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				validate(data)
			}
			runtime.ReadMemStats(&after)
			return (after.Mallocs - before.Mallocs) / runs, (after.TotalAlloc - before.TotalAlloc) / runs, segs
		}
		smallMallocs, smallBytes, smallSegs := allocated(small)
		largeMallocs, largeBytes, largeSegs := allocated(large)
		t.Logf("sequential %v: %d segments: %d allocations, %d bytes; %d segments: %d allocations, %d bytes",
			sequential, smallSegs, smallMallocs, smallBytes, largeSegs, largeMallocs, largeBytes)
		// 18 more transaction sets, a few allocations and well under 1 KB each.
		if largeMallocs > smallMallocs+18*8 || largeBytes > smallBytes+18*1024 {
			t.Errorf("sequential %v: allocation grows with the input: %d allocations (%d bytes) for %d segments, %d (%d bytes) for %d",
				sequential, smallMallocs, smallBytes, smallSegs, largeMallocs, largeBytes, largeSegs)
		}
	}
}

// TestStreamLarge validates an 837P of 5,000 claims (X12_STREAM_CLAIMS
// overrides it) streamed from the generator through a pipe, never held in
// memory: run it under /usr/bin/time -v with two sizes to see the resident
// set stay flat.
func TestStreamLarge(t *testing.T) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("X12_STREAM_CLAIMS")); err == nil && v > 0 {
		n = v
	}
	if testing.Short() {
		n = 1000
	}
	pr, pw := io.Pipe()
	go func() { _, err := (x12test.Gen837P{Claims: n, Seed: 9}).WriteTo(pw); pw.CloseWithError(err) }()
	sum, err := ig.NewValidator(ig.Options{}).Validate(context.Background(), pr)
	if err != nil || !sum.OK() {
		t.Fatalf("%+v %v", sum, err)
	}
	if sum.Transactions == 0 || sum.Segments < int64(n)*10 {
		t.Errorf("validated %d segments in %d transaction sets for %d claims", sum.Segments, sum.Transactions, n)
	}
	t.Logf("%d bytes, %d segments, %d transaction sets", sum.Bytes, sum.Segments, sum.Transactions)
}

var bench834 = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	if _, err := (gen834.Options{Members: 100_000, Seed: 1}).WriteTo(&b); err != nil {
		panic(err)
	}
	return b.Bytes()
})

// BenchmarkValidate834Sequential is the guide's pass over an 834 of
// 100,000 members on one goroutine, the baseline of
// BenchmarkValidate834Split; compare BenchmarkTokenize834 in
// mappings/enrollment.
func BenchmarkValidate834Sequential(b *testing.B) {
	data := bench834()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	v := ig.NewValidator(ig.Options{Sequential: true})
	for b.Loop() {
		sum, err := v.Validate(context.Background(), bytes.NewReader(data))
		if err != nil || !sum.OK() {
			b.Fatalf("%+v %v", sum, err)
		}
	}
}

func BenchmarkValidate834ReadAhead(b *testing.B) {
	data := bench834()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	v := ig.NewValidator(ig.Options{})
	for b.Loop() {
		sum, err := v.Validate(context.Background(), bytes.NewReader(data))
		if err != nil || !sum.OK() {
			b.Fatalf("%+v %v", sum, err)
		}
	}
}

// BenchmarkValidate834Split is the guide's pass over the same 834 through
// ValidateAt: in parts, one per core (GOMAXPROCS), joined in order.
func BenchmarkValidate834Split(b *testing.B) {
	data := bench834()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	v := ig.NewValidator(ig.Options{})
	parts := min(runtime.GOMAXPROCS(0), 8)
	if parts < 2 {
		parts = 0
	}
	for b.Loop() {
		sum, err := v.ValidateAt(context.Background(), bytes.NewReader(data), int64(len(data)))
		if err != nil || !sum.OK() || sum.Parts != parts {
			b.Fatalf("%+v %v", sum, err)
		}
	}
}
