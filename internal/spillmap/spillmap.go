// Package spillmap is a map from uint64 keys to int64 values whose memory
// stays bounded however many keys it holds. The newest keys live in an
// in-memory table; when it is full they are sorted and written to a
// temporary file (a run), and only a Bloom filter (about 10 bits a key)
// and the first key of each 4 KiB block of the run stay in memory. Run
// files are scratch files: unnamed, gone when closed or when the process
// ends. Runs
// are merged four at a time, so that a look-up visits a few runs, each
// only when its filter says the key may be there.
//
// Values must grow with each Put (a file offset, a sequence number):
// DropFrom relies on it to forget every value from a mark onwards without
// rewriting the runs. A Map is not safe for concurrent use.
package spillmap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/calaim-gateway/calaim-gateway/internal/scratch"
)

const (
	entrySize     = 16                       // key and value, big-endian
	blockEntries  = 256                      // entries per block read back
	blockSize     = blockEntries * entrySize // 4 KiB
	mergeFanIn    = 4                        // runs of one level merged into one
	bitsPerKey    = 10                       // Bloom filter size
	bloomProbes   = 7                        // bits set per key in its 512-bit block
	defaultMemCap = 1 << 15
)

// Map is the bounded-memory map. The zero value is not usable: see New.
type Map struct {
	dir    string
	memCap int
	mem    map[uint64]int64
	runs   []*run // oldest first; levels never grow towards the end
	dead   []span // values dropped by DropFrom
	next   int64  // one past the largest value put
	buf    []byte // one block, for look-ups
	reads  int    // blocks read by look-ups
}

// span is the values [from, to).
type span struct{ from, to int64 }

// run is one sorted file of entries.
type run struct {
	f     *os.File
	n     int      // entries
	first []uint64 // first key of each block
	bloom []uint64 // 512-bit blocks
	level int
}

// New returns an empty Map whose runs go to temporary files in dir (the
// system's temporary directory when ""), and which keeps at most memCap
// entries in memory before it writes a run (a default when memCap <= 0).
func New(dir string, memCap int) *Map {
	if memCap <= 0 {
		memCap = defaultMemCap
	}
	return &Map{dir: dir, memCap: memCap, mem: make(map[uint64]int64, memCap), buf: make([]byte, blockSize)}
}

// Get returns the value of key, false when it has none.
func (m *Map) Get(key uint64) (int64, bool, error) {
	if v, ok := m.mem[key]; ok {
		return v, true, nil
	}
	for i := len(m.runs) - 1; i >= 0; i-- {
		v, ok, err := m.runs[i].get(key, m.buf, &m.reads)
		if err != nil {
			return 0, false, err
		}
		if ok && !m.isDead(v) {
			return v, true, nil
		}
	}
	return 0, false, nil
}

// PutIfAbsent gives key the value v unless key has one already, and says
// whether it did. v must be larger than every value put before.
func (m *Map) PutIfAbsent(key uint64, v int64) (bool, error) {
	if v < m.next {
		return false, fmt.Errorf("spillmap: value %d after %d: values must grow", v, m.next-1)
	}
	if _, ok, err := m.Get(key); err != nil || ok {
		return false, err
	}
	m.mem[key] = v
	m.next = v + 1
	if len(m.mem) >= m.memCap {
		if err := m.spill(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// DropFrom forgets every key whose value is mark or more: Get no longer
// finds them, and PutIfAbsent may give them a new value.
func (m *Map) DropFrom(mark int64) {
	for k, v := range m.mem {
		if v >= mark {
			delete(m.mem, k)
		}
	}
	if mark < m.next {
		m.dead = append(m.dead, span{mark, m.next})
	}
}

// Close frees the runs' scratch files.
func (m *Map) Close() error {
	var errs []error
	for _, r := range m.runs {
		errs = append(errs, r.remove())
	}
	m.runs, m.mem = nil, nil
	return errors.Join(errs...)
}

func (m *Map) isDead(v int64) bool {
	for _, s := range m.dead {
		if v >= s.from && v < s.to {
			return true
		}
	}
	return false
}

// spill writes the in-memory entries as a run of level 0, then merges the
// last runs while mergeFanIn of them share a level.
func (m *Map) spill() error {
	keys := make([]uint64, 0, len(m.mem))
	for k := range m.mem {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w, err := m.newWriter(len(keys))
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := w.add(k, m.mem[k]); err != nil {
			w.r.remove()
			return err
		}
	}
	r, err := w.finish(0)
	if err != nil {
		return err
	}
	m.runs = append(m.runs, r)
	clear(m.mem)
	for len(m.runs) >= mergeFanIn {
		tail := m.runs[len(m.runs)-mergeFanIn:]
		level := tail[0].level
		if tail[mergeFanIn-1].level != level {
			break
		}
		merged, err := m.merge(tail, level+1)
		if err != nil {
			return err
		}
		m.runs = append(m.runs[:len(m.runs)-mergeFanIn], merged)
	}
	return nil
}

// merge writes one run of level holding the live entries of runs, then
// removes them.
func (m *Map) merge(runs []*run, level int) (*run, error) {
	total := 0
	type cursor struct {
		rd    *bufio.Reader
		left  int
		key   uint64
		val   int64
		has   bool
		entry [entrySize]byte
	}
	cs := make([]*cursor, len(runs))
	for i, r := range runs {
		total += r.n
		cs[i] = &cursor{rd: bufio.NewReaderSize(io.NewSectionReader(r.f, 0, int64(r.n)*entrySize), 64<<10), left: r.n}
	}
	advance := func(c *cursor) error {
		c.has = false
		for c.left > 0 {
			c.left--
			if _, err := io.ReadFull(c.rd, c.entry[:]); err != nil {
				return fmt.Errorf("spillmap: reading a run: %w", err)
			}
			c.key = binary.BigEndian.Uint64(c.entry[:8])
			c.val = int64(binary.BigEndian.Uint64(c.entry[8:]))
			if !m.isDead(c.val) {
				c.has = true
				return nil
			}
		}
		return nil
	}
	for _, c := range cs {
		if err := advance(c); err != nil {
			return nil, err
		}
	}
	w, err := m.newWriter(total)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*run, error) { w.r.remove(); return nil, err }
	for {
		var min *cursor
		for _, c := range cs {
			if c.has && (min == nil || c.key < min.key) {
				min = c
			}
		}
		if min == nil {
			break
		}
		// Runs hold a key once while it is live, so equal keys in two runs
		// mean one of them was dropped; the dead ones are skipped above.
		if err := w.add(min.key, min.val); err != nil {
			return fail(err)
		}
		if err := advance(min); err != nil {
			return fail(err)
		}
	}
	r, err := w.finish(level)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, old := range runs {
		errs = append(errs, old.remove())
	}
	if err := errors.Join(errs...); err != nil {
		r.remove()
		return nil, err
	}
	return r, nil
}

// writer writes one run, sorted by key.
type writer struct {
	r *run
	w *bufio.Writer
	e [entrySize]byte
}

func (m *Map) newWriter(capacity int) (*writer, error) {
	f, err := scratch.File(m.dir, "calgw-spillmap-")
	if err != nil {
		return nil, fmt.Errorf("spillmap: %w", err)
	}
	blocks := max((capacity*bitsPerKey+511)/512, 1)
	r := &run{f: f, bloom: make([]uint64, blocks*8), first: make([]uint64, 0, (capacity+blockEntries-1)/blockEntries)}
	return &writer{r: r, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (w *writer) add(key uint64, v int64) error {
	r := w.r
	if r.n%blockEntries == 0 {
		r.first = append(r.first, key)
	}
	r.n++
	r.bloomAdd(key)
	binary.BigEndian.PutUint64(w.e[:8], key)
	binary.BigEndian.PutUint64(w.e[8:], uint64(v))
	if _, err := w.w.Write(w.e[:]); err != nil {
		return fmt.Errorf("spillmap: writing a run: %w", err)
	}
	return nil
}

func (w *writer) finish(level int) (*run, error) {
	if err := w.w.Flush(); err != nil {
		w.r.remove()
		return nil, fmt.Errorf("spillmap: writing a run: %w", err)
	}
	w.r.level = level
	return w.r, nil
}

// mix spreads a key's bits (the finaliser of SplitMix64), so that keys
// that are not hashes still fill the filter evenly.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// bloomBits are the block of key's bits and the bits themselves: one
// 512-bit block (a cache line) chosen by one hash of the key, and
// bloomProbes 9-bit positions in it from another.
func (r *run) bloomBits(key uint64) (block int, h uint64) {
	b := mix(key)
	blocks := uint64(len(r.bloom) / 8)
	return int(b % blocks), mix(b ^ 0x9e3779b97f4a7c15)
}

func (r *run) bloomAdd(key uint64) {
	b, h := r.bloomBits(key)
	for i := range bloomProbes {
		bit := (h >> (i * 9)) & 511
		r.bloom[b*8+int(bit>>6)] |= 1 << (bit & 63)
	}
}

func (r *run) bloomHas(key uint64) bool {
	b, h := r.bloomBits(key)
	for i := range bloomProbes {
		bit := (h >> (i * 9)) & 511
		if r.bloom[b*8+int(bit>>6)]&(1<<(bit&63)) == 0 {
			return false
		}
	}
	return true
}

// get looks key up in the run, reading one block into buf and counting
// it in reads.
func (r *run) get(key uint64, buf []byte, reads *int) (int64, bool, error) {
	if r.n == 0 || !r.bloomHas(key) {
		return 0, false, nil
	}
	blk := sort.Search(len(r.first), func(i int) bool { return r.first[i] > key }) - 1
	if blk < 0 {
		return 0, false, nil
	}
	n := min(blockEntries, r.n-blk*blockEntries)
	b := buf[:n*entrySize]
	*reads++
	if _, err := r.f.ReadAt(b, int64(blk)*blockSize); err != nil {
		return 0, false, fmt.Errorf("spillmap: reading a run: %w", err)
	}
	i := sort.Search(n, func(i int) bool { return binary.BigEndian.Uint64(b[i*entrySize:]) >= key })
	if i == n || binary.BigEndian.Uint64(b[i*entrySize:]) != key {
		return 0, false, nil
	}
	return int64(binary.BigEndian.Uint64(b[i*entrySize+8:])), true, nil
}

// remove frees the run's file (a scratch file: gone once closed).
func (r *run) remove() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
