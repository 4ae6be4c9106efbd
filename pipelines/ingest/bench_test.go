package ingest

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// benchMembers is the size of the generated 834 (INGEST_BENCH_MEMBERS,
// default 200,000; the 1,000,000-member figures come from the same
// benchmarks with the variable set).
func benchMembers() int {
	if n, err := strconv.Atoi(os.Getenv("INGEST_BENCH_MEMBERS")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

// benchDir holds the generated file; TestMain removes it.
var benchDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

var benchFile = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "calgw-bench834-")
	if err != nil {
		return "", err
	}
	benchDir = dir
	path := filepath.Join(dir, "bench.834")
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := (gen834.Options{Members: benchMembers(), Seed: 1, Full: true}).WriteTo(w); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return path, f.Close()
})

func benchPath(b *testing.B) (string, int64) {
	p, err := benchFile()
	if err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	return p, st.Size()
}

// BenchmarkScan834 is the ceiling: read the same file and count segment
// terminators, nothing else.
func BenchmarkScan834(b *testing.B) {
	path, size := benchPath(b)
	b.SetBytes(size)
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		br := bufio.NewReaderSize(f, 64<<10)
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
		f.Close()
	}
	b.ReportMetric(float64(benchMembers())*float64(b.N)/b.Elapsed().Seconds(), "members/s")
}

// BenchmarkIngest834 loads the file into a fresh store each time: the
// validator, the mapping and one upsert per member.
func BenchmarkIngest834(b *testing.B) {
	path, size := benchPath(b)
	cfg, _ := config.Load("")
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		st, err := store.OpenSQLite(context.Background(), b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		rs := Ingest834(context.Background(), Job{Files: []string{path}, OutDir: b.TempDir(), Store: st, Config: cfg,
			Coding: rules.DefaultCodingTable(), Tables: rules.DefaultTables(), Data: rules.DefaultEligibilityTables()})
		if rs[0].Err != nil || rs[0].Loaded != benchMembers() {
			b.Fatalf("%+v", rs[0])
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(benchMembers())*float64(b.N)/b.Elapsed().Seconds(), "members/s")
}
