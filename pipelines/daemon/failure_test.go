package daemon

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport"
)

// refusing is a transport whose server refuses the credentials while
// refuse is set (as after a password rotation), and is a local folder
// otherwise.
type refusing struct {
	transport.Transport
	refuse *atomic.Bool
}

func (r refusing) err(op string) error {
	return &transport.Error{Transport: "sftp", Op: op, Location: "calgw@sftp.example:22", Path: ".", Err: transport.ErrAuth}
}

func (r refusing) List(ctx context.Context, dir string) ([]transport.Object, error) {
	if r.refuse.Load() {
		return nil, r.err("list")
	}
	return r.Transport.List(ctx, dir)
}

func (r refusing) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if r.refuse.Load() {
		return nil, r.err("open")
	}
	return r.Transport.Open(ctx, p)
}

func TestPermanentSourceErrorIsLoudRetriedSlowlyAndNotFatal(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	var refuse atomic.Bool
	refuse.Store(true)
	lists := atomic.Int32{}
	prev := openTransport
	openTransport = func(ctx context.Context, cfg transport.Config) (transport.Transport, error) {
		tr, err := prev(ctx, cfg)
		if err != nil || cfg.Local == nil || cfg.Local.Dir != other {
			return tr, err
		}
		return countingRefusing{refusing{tr, &refuse}, &lists}, nil
	}
	t.Cleanup(func() { openTransport = prev })
	yaml := strings.Replace(localConfig(dir, ""), "    quarantine: quarantine\n",
		"    quarantine: quarantine\n  partner: {transport: {type: local, local: {dir: "+other+"}}, folder: inbox}\n", 1)
	h := startDaemon(t, dir, yaml)
	dropFile(t, other+"/inbox", "waiting.csv", invoice("PA-1", 1, 1))
	h.write("flowing.csv", invoice("PA-2", 10, 1))
	waitFor(t, 20*time.Second, "the other source's file archived", func() bool {
		return byName(t, h.st)["flowing.csv"].State == store.FileArchived
	})
	waitFor(t, 20*time.Second, "the refusal reported", func() bool {
		return strings.Contains(h.log.String(), `level=ERROR msg="source failing: check its configuration" source=partner`)
	})
	// Retried at the slow cadence (retry.max, 400ms here), not every poll (50ms).
	n0 := lists.Load()
	time.Sleep(time.Second)
	if n := lists.Load() - n0; n > 4 {
		t.Errorf("%d polls of the refusing source in a second: not slowed down", n)
	}
	if _, ok := byName(t, h.st)["waiting.csv"]; ok {
		t.Fatal("a file of the refusing source was taken")
	}
	if strings.Contains(h.log.String(), "source reachable again") {
		t.Error("a recovery logged while the source still refuses")
	}
	// Fixed: its files flow, and the recovery is logged once.
	refuse.Store(false)
	waitFor(t, 20*time.Second, "the partner's file archived", func() bool {
		return byName(t, h.st)["waiting.csv"].State == store.FileArchived
	})
	if n := strings.Count(h.log.String(), `msg="source reachable again" source=partner failed_polls=`); n != 1 {
		t.Errorf("the recovery logged %d times, want once", n)
	}
}

type countingRefusing struct {
	refusing
	n *atomic.Int32
}

func (c countingRefusing) List(ctx context.Context, dir string) ([]transport.Object, error) {
	c.n.Add(1)
	return c.refusing.List(ctx, dir)
}

func TestBackoffGrowsCapsAndJitters(t *testing.T) {
	d := &Daemon{cfg: loadConfig(t, "retry: {initial: 1s, max: 30s}\n")}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: 16 * time.Second, 6: 30 * time.Second, 40: 30 * time.Second} {
		seen := map[time.Duration]bool{}
		for range 20 {
			b := d.backoff(n)
			if b < want*8/10 || b > want*12/10 {
				t.Fatalf("backoff(%d) = %v, want %v ±20%%", n, b, want)
			}
			seen[b] = true
		}
		if len(seen) < 5 {
			t.Errorf("backoff(%d) barely varies: %v", n, seen)
		}
	}
}
