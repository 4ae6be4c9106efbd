// Package progress shows how far a command has read its input files, on a
// terminal: bytes done, rate and time left, redrawn on one line of stderr.
// It needs nothing from the code doing the reading: it reads the file
// offsets the kernel keeps for the process (/proc/self/fdinfo), so any
// command that streams its inputs gets progress for free. Where /proc is
// not there it shows nothing.
package progress

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MinSize is the total input size below which no progress is shown.
const MinSize = 50 << 20

// Interval is how often the line is redrawn.
const Interval = 500 * time.Millisecond

// Tracker follows the reading of a list of files, in order.
type Tracker struct {
	paths []string // absolute
	sizes []int64
	total int64
	seen  []bool  // the file was seen open
	done  []int64 // the furthest offset seen
	start time.Time
}

// NewTracker returns a Tracker of the files (unreadable ones count zero).
func NewTracker(paths []string) *Tracker {
	t := &Tracker{start: time.Now()}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			abs = p
		}
		var size int64
		if fi, err := os.Stat(abs); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		t.paths = append(t.paths, abs)
		t.sizes = append(t.sizes, size)
		t.total += size
	}
	t.seen = make([]bool, len(t.paths))
	t.done = make([]int64, len(t.paths))
	return t
}

// Total is the size of the files.
func (t *Tracker) Total() int64 { return t.total }

// Sample reads the offsets of the process's open files and returns the
// bytes read so far: a file seen open and then closed counts as read, as
// does every file before the one being read.
func (t *Tracker) Sample() int64 {
	offsets := openOffsets()
	last := -1
	for i, p := range t.paths {
		if off, open := offsets[p]; open {
			t.seen[i] = true
			t.done[i] = max(t.done[i], min(off, t.sizes[i]))
			last = i
		} else if t.seen[i] {
			t.done[i] = t.sizes[i] // read and closed
		}
	}
	var sum int64
	for i := range t.paths {
		if i < last {
			sum += t.sizes[i]
			continue
		}
		sum += t.done[i]
	}
	return sum
}

// openOffsets maps the files the process has open to their offsets.
func openOffsets() map[string]int64 {
	out := map[string]int64{}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return out
	}
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || !strings.HasPrefix(target, "/") {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "pos:"); ok {
				if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > out[target] {
					out[target] = n
				}
			}
		}
	}
	return out
}

// Line renders the progress line: done of total, the rate since the start,
// and the time left at that rate.
func Line(what string, done, total int64, elapsed time.Duration) string {
	pct := 0.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	s := fmt.Sprintf("%s: %s of %s (%.0f%%)", what, mb(done), mb(total), pct)
	if sec := elapsed.Seconds(); sec > 0 && done > 0 {
		rate := float64(done) / sec
		s += fmt.Sprintf(", %s/s", mb(int64(rate)))
		if left := float64(total-done) / rate; left >= 0 {
			s += ", " + (time.Duration(left) * time.Second).Round(time.Second).String() + " left"
		}
	}
	return s
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }

// Show redraws the progress of reading paths on w every Interval until the
// returned stop is called, which clears the line. It shows nothing when
// the files total less than MinSize.
func Show(ctx context.Context, w io.Writer, what string, paths []string) (stop func()) {
	t := NewTracker(paths)
	if t.Total() < MinSize {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(Interval)
		defer tick.Stop()
		width := 0
		for {
			select {
			case <-ctx.Done():
				if width > 0 {
					fmt.Fprintf(w, "\r%s\r", strings.Repeat(" ", width))
				}
				return
			case <-tick.C:
				line := Line(what, t.Sample(), t.Total(), time.Since(t.start))
				pad := max(width-len(line), 0)
				fmt.Fprintf(w, "\r%s%s", line, strings.Repeat(" ", pad))
				width = len(line)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
