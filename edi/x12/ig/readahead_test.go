package ig_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/internal/x12test"
)

// events is everything a validation reported, in the order of the
// callbacks, copied out of them, and what Validate returned. Empty slices
// are nil: whether one is nil or empty depends on reused memory.
func events(r io.Reader, opts ig.Options) []any {
	return record(opts, func(v *ig.Validator) (ig.Summary, error) { return v.Validate(context.Background(), r) })
}

// eventsAt is events of ValidateAt (how many parts it used left out).
func eventsAt(data []byte, opts ig.Options) []any {
	return record(opts, func(v *ig.Validator) (ig.Summary, error) {
		sum, err := v.ValidateAt(context.Background(), bytes.NewReader(data), int64(len(data)))
		sum.Parts = 0
		return sum, err
	})
}

func record(opts ig.Options, validate func(*ig.Validator) (ig.Summary, error)) []any {
	var ev []any
	opts.OnFinding = func(f *ig.Finding) { ev = append(ev, *f) }
	opts.OnInterchangeStart = func(i *ig.InterchangeInfo) error { ev = append(ev, *i); return nil }
	opts.OnTransaction = func(tr *ig.TransactionResult) error {
		c := *tr
		c.Findings, c.Codes = clone(tr.Findings), clone(tr.Codes)
		ev = append(ev, c)
		return nil
	}
	opts.OnGroup = func(g *ig.GroupResult) error {
		c := *g
		c.Findings, c.Codes = clone(g.Findings), clone(g.Codes)
		ev = append(ev, c)
		return nil
	}
	opts.OnInterchange = func(i *ig.InterchangeResult) error {
		c := *i
		c.Findings = clone(i.Findings)
		ev = append(ev, c)
		return nil
	}
	sum, err := validate(ig.NewValidator(opts))
	return append(ev, sum, fmt.Sprint(err))
}

func clone[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

// sameEvents reports the first difference between two event lists.
func sameEvents(got, want []any) error {
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			return fmt.Errorf("event %d of %d:\n got %+v\nwant %+v", i, len(want), got[i], want[i])
		}
	}
	if len(got) != len(want) {
		return fmt.Errorf("%d events, want %d", len(got), len(want))
	}
	return nil
}

// mutations returns the file with each segment left out, repeated, and
// swapped with the next, cut short, and with bytes replaced by separators
// and bad characters: a corpus of broken inputs.
func mutations(file []byte) [][]byte {
	out := [][]byte{file}
	ls := strings.SplitAfter(string(file), "\n")
	for i := range ls {
		out = append(out, []byte(strings.Join(slices.Delete(slices.Clone(ls), i, i+1), "")))
		out = append(out, []byte(strings.Join(slices.Insert(slices.Clone(ls), i, ls[i]), "")))
		if i+1 < len(ls) {
			sw := slices.Clone(ls)
			sw[i], sw[i+1] = sw[i+1], sw[i]
			out = append(out, []byte(strings.Join(sw, "")))
		}
	}
	for n := 0; n < len(file); n += 37 {
		out = append(out, file[:n])
	}
	for i, n := 0, 0; n < len(file); i, n = i+1, n+53 {
		b := bytes.Clone(file)
		b[n] = "*:~^\x01Z9 \n"[i%9]
		out = append(out, b)
	}
	return out
}

func corpus(t *testing.T) [][]byte {
	t.Helper()
	files, _ := filepath.Glob("../../../testdata/x12/*.x12")
	fuzz, _ := filepath.Glob("testdata/fuzz/FuzzValidate/*")
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, mutations(b)...)
	}
	for _, f := range fuzz {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b) // the corpus file format is not X12: still an input
	}
	return out
}

// Reading ahead on a second goroutine changes nothing: the same findings,
// results and summary, in the same order, as validating on one.
func TestReadAheadSameResults(t *testing.T) {
	var readable [][]byte // inputs that can be read to the end
	for i, in := range corpus(t) {
		want := events(bytes.NewReader(in), ig.Options{Sequential: true})
		if err := sameEvents(events(bytes.NewReader(in), ig.ReadAheadAfter(ig.Options{}, -1)), want); err != nil {
			t.Fatalf("input %d (%.80q): %v", i, in, err)
		}
		if !slices.ContainsFunc(want, func(e any) bool {
			f, ok := e.(ig.Finding)
			return ok && strings.HasPrefix(f.Msg, "cannot read further")
		}) && want[len(want)-1] == "<nil>" {
			readable = append(readable, in)
		}
	}
	// Those in one input, read ahead in batches, from the start, after the
	// threshold, and in short reads.
	all := bytes.Join(readable, nil)
	want := events(bytes.NewReader(all), ig.Options{Sequential: true})
	for name, got := range map[string][]any{
		"at once":     events(bytes.NewReader(all), ig.ReadAheadAfter(ig.Options{}, -1)),
		"default":     events(bytes.NewReader(all), ig.Options{}),
		"short reads": events(iotest.HalfReader(bytes.NewReader(all)), ig.Options{}),
		"small limit": events(bytes.NewReader(all), ig.ReadAheadAfter(ig.Options{MaxSegmentSize: 300}, -1)),
	} {
		w := want
		if name == "small limit" {
			w = events(bytes.NewReader(all), ig.Options{Sequential: true, MaxSegmentSize: 300})
		}
		if err := sameEvents(got, w); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	t.Logf("%d inputs, %d bytes in one: %d events", len(readable), len(all), len(want))
	if len(all) < 512<<10 || len(want) < 1000 {
		t.Fatalf("corpus too small: %d bytes, %d events", len(all), len(want))
	}
}

// waitGoroutines waits until at most n goroutines run.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	for i := 0; runtime.NumGoroutine() > n; i++ {
		if i == 200 {
			t.Fatalf("%d goroutines, want %d: the read-ahead leaked", runtime.NumGoroutine(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A validation that stops early, on a callback's error or a cancellation,
// stops its read-ahead too, at the same place as without it.
func TestReadAheadStopsEarly(t *testing.T) {
	var b bytes.Buffer
	if _, err := (x12test.Gen837P{Claims: 3000, ClaimsPerSet: 100, Seed: 5}).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	data := b.Bytes()
	stop := errors.New("stop")
	before := runtime.NumGoroutine()
	for _, c := range []struct {
		name string
		run  func(opts ig.Options) (ig.Summary, error)
		want error
	}{
		{"callback error", func(opts ig.Options) (ig.Summary, error) {
			n := 0
			opts.OnTransaction = func(*ig.TransactionResult) error {
				if n++; n == 7 {
					return stop
				}
				return nil
			}
			return ig.NewValidator(opts).Validate(context.Background(), bytes.NewReader(data))
		}, stop},
		{"cancel", func(opts ig.Options) (ig.Summary, error) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := 0
			opts.OnTransaction = func(*ig.TransactionResult) error {
				if n++; n == 7 {
					cancel()
				}
				return nil
			}
			return ig.NewValidator(opts).Validate(ctx, bytes.NewReader(data))
		}, context.Canceled},
		{"read error", func(opts ig.Options) (ig.Summary, error) {
			return ig.NewValidator(opts).Validate(context.Background(), io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(stop)))
		}, stop},
	} {
		want, werr := c.run(ig.Options{Sequential: true})
		got, err := c.run(ig.Options{})
		if !errors.Is(werr, c.want) || !errors.Is(err, c.want) || got != want || got.Segments < 1000 {
			t.Errorf("%s: read ahead %+v %v; without %+v %v", c.name, got, err, want, werr)
		}
		waitGoroutines(t, before)
	}
}
