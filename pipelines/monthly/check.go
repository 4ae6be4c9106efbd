package monthly

import (
	"cmp"
	"runtime"
	"slices"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/schemas"
)

// checker validates records against their data set's sub-schema on every
// core while the builder goes on reading and writing; finish returns the
// violations in document order (data set, then record), the first
// maxViolations of them, and how many there were in all.
type checker struct {
	set  *schemas.Set
	jobs chan checkJob
	wg   sync.WaitGroup
	mu   sync.Mutex
	vs   []found
	n    int
	done bool
}

type checkJob struct {
	ds   string
	i    int
	data []byte
}

type found struct {
	ds int
	i  int
	v  schemas.Violation
}

func newChecker(set *schemas.Set) *checker {
	c := &checker{set: set, jobs: make(chan checkJob, 4096)}
	for range runtime.GOMAXPROCS(0) {
		c.wg.Add(1)
		go c.work()
	}
	return c
}

func (c *checker) check(ds string, i int, data []byte) { c.jobs <- checkJob{ds, i, data} }

func (c *checker) work() {
	defer c.wg.Done()
	for j := range c.jobs {
		var vs []schemas.Violation
		v, err := schemas.Decode(j.data)
		if err != nil {
			vs = []schemas.Violation{{Pointer: "/" + j.ds, Keyword: "", Message: err.Error()}}
		} else {
			vs = c.set.ValidateRecord(j.ds, j.i, v)
		}
		if len(vs) == 0 {
			continue
		}
		c.mu.Lock()
		c.n += len(vs)
		for _, v := range vs {
			c.vs = append(c.vs, found{slices.Index(schemas.DataSets, j.ds), j.i, v})
		}
		c.mu.Unlock()
	}
}

// finish waits for the records given so far; calling it again returns
// nothing more.
func (c *checker) finish() ([]schemas.Violation, int) {
	if c.done {
		return nil, 0
	}
	c.done = true
	close(c.jobs)
	c.wg.Wait()
	slices.SortStableFunc(c.vs, func(a, b found) int { return cmp.Or(a.ds-b.ds, a.i-b.i) })
	out := make([]schemas.Violation, 0, min(len(c.vs), maxViolations))
	for _, f := range c.vs[:min(len(c.vs), maxViolations)] {
		out = append(out, f.v)
	}
	return out, c.n
}
