package spillmap

import (
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"testing"
)

// TestAgainstAMap puts, gets and drops keys at random, with a small
// in-memory table so that runs are written and merged many times, and
// checks every answer against a plain map.
func TestAgainstAMap(t *testing.T) {
	for _, memCap := range []int{1, 3, 64} {
		dir := t.TempDir()
		m := New(dir, memCap)
		want := map[uint64]int64{}
		rng := rand.New(rand.NewPCG(1, uint64(memCap)))
		next := int64(0)
		key := func() uint64 { return rng.Uint64N(3000) * 0x9e3779b97f4a7c15 }
		for op := range 20000 {
			switch r := rng.IntN(100); {
			case r < 55:
				k := key()
				_, had := want[k]
				put, err := m.PutIfAbsent(k, next)
				if err != nil {
					t.Fatal(err)
				}
				if put == had {
					t.Fatalf("memCap %d op %d: PutIfAbsent(%x) = %v with the key present %v", memCap, op, k, put, had)
				}
				if put {
					want[k] = next
				}
				next += 1 + rng.Int64N(40)
			case r < 99:
				k := key()
				v, ok, err := m.Get(k)
				if err != nil {
					t.Fatal(err)
				}
				if wv, wok := want[k]; ok != wok || v != wv {
					t.Fatalf("memCap %d op %d: Get(%x) = %d %v, want %d %v", memCap, op, k, v, ok, wv, wok)
				}
			default:
				mark := next - rng.Int64N(400)
				m.DropFrom(mark)
				for k, v := range want {
					if v >= mark {
						delete(want, k)
					}
				}
			}
		}
		if memCap < 64 && len(m.runs) == 0 {
			t.Errorf("memCap %d: no run was written", memCap)
		}
		// Runs are scratch files: nothing to leave behind, even if the
		// process were killed now.
		if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
			t.Errorf("memCap %d: the runs show in their directory: %v", memCap, left)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if m.runs != nil {
			t.Errorf("memCap %d: runs kept after Close", memCap)
		}
	}
}

// TestRunsMerge: runs of one level are merged four at a time, so that
// the number of runs grows with the logarithm of the keys.
func TestRunsMerge(t *testing.T) {
	m := New(t.TempDir(), 10)
	defer m.Close()
	for i := range int64(10 * 4 * 4 * 4) { // 64 spills
		if _, err := m.PutIfAbsent(uint64(i)*7919, i); err != nil {
			t.Fatal(err)
		}
	}
	if len(m.runs) != 1 || m.runs[0].level != 3 || m.runs[0].n != 640 {
		t.Fatalf("after 64 spills of 10: %d runs, want one of level 3 with 640 entries", len(m.runs))
	}
	for i := range int64(640) {
		if v, ok, err := m.Get(uint64(i) * 7919); err != nil || !ok || v != i {
			t.Fatalf("Get(%d) = %d %v %v", i*7919, v, ok, err)
		}
	}
}

// TestValuesMustGrow: a value not larger than the last is refused.
func TestValuesMustGrow(t *testing.T) {
	m := New(t.TempDir(), 0)
	defer m.Close()
	if _, err := m.PutIfAbsent(1, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := m.PutIfAbsent(2, 10); err == nil {
		t.Error("a repeated value was taken")
	}
}

// TestMemoryStaysBounded: a million keys cost the heap little more than
// the in-memory table and about 10 bits a key of filters, where a Go map
// costs tens of bytes a key.
func TestMemoryStaysBounded(t *testing.T) {
	heap := func() uint64 {
		runtime.GC()
		var s runtime.MemStats
		runtime.ReadMemStats(&s)
		return s.HeapAlloc
	}
	before := heap()
	m := New(t.TempDir(), 1<<12)
	defer m.Close()
	const n = 1_000_000
	for i := range int64(n) {
		if _, err := m.PutIfAbsent(mix(uint64(i)), i); err != nil {
			t.Fatal(err)
		}
	}
	grew := int64(heap()) - int64(before)
	if limit := int64(3 << 20); grew > limit {
		t.Errorf("a million keys took %d bytes of heap, want under %d", grew, limit)
	}
	for i := int64(0); i < n; i += 997 {
		if v, ok, err := m.Get(mix(uint64(i))); err != nil || !ok || v != i {
			t.Fatalf("Get(key %d) = %d %v %v", i, v, ok, err)
		}
	}
}

// TestFiltersSpareReads: looking up keys that were never put reads a
// block for under 2.5% of them, the filters' false positives.
func TestFiltersSpareReads(t *testing.T) {
	m := New(t.TempDir(), 1<<10)
	defer m.Close()
	const n = 200_000
	for i := range int64(n) {
		if _, err := m.PutIfAbsent(uint64(i)*2, i); err != nil {
			t.Fatal(err)
		}
	}
	runs := len(m.runs)
	m.reads = 0
	for i := range uint64(n) {
		if _, ok, err := m.Get(i*2 + 1); err != nil || ok {
			t.Fatalf("Get(%d) = %v %v for a key never put", i*2+1, ok, err)
		}
	}
	if rate := float64(m.reads) / n; rate > 0.025 || runs < 2 {
		t.Errorf("%d runs; %.3f blocks read per absent key, want under 0.025", runs, rate)
	}
	t.Logf("%d runs, %.4f blocks read per absent key", runs, float64(m.reads)/n)
}
