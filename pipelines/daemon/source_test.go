package daemon

import (
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/transport"
)

func names(objs []transport.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Name())
	}
	return out
}

func TestReadinessStableOverTwoPolls(t *testing.T) {
	s := &source{cfg: config.Source{Ready: "stable"}, seen: map[string]observation{}}
	t0 := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	obj := func(size int64, mod time.Time, etag string) transport.Object {
		return transport.Object{Path: "in/a.csv", Size: size, ModTime: mod, ETag: etag}
	}
	mark := func() { o := s.seen["in/a.csv"]; o.registered = true; s.seen["in/a.csv"] = o }
	steps := []struct {
		what  string
		objs  []transport.Object
		ready bool
	}{
		{"first seen", []transport.Object{obj(10, t0, "e1")}, false},
		{"unchanged", []transport.Object{obj(10, t0, "e1")}, true},
		{"registered", []transport.Object{obj(10, t0, "e1")}, false},
		{"grew", []transport.Object{obj(20, t0.Add(time.Second), "e2")}, false},
		{"stable again", []transport.Object{obj(20, t0.Add(time.Second), "e2")}, true},
		{"rewritten: new ETag, same size and time", []transport.Object{obj(20, t0.Add(time.Second), "e9")}, false},
		{"stable after the rewrite", []transport.Object{obj(20, t0.Add(time.Second), "e9")}, true},
	}
	for i, st := range steps {
		got := s.ready(st.objs, t0.Add(time.Duration(i)*time.Second))
		if (len(got) == 1) != st.ready {
			t.Fatalf("%s: ready %v, want %v", st.what, names(got), st.ready)
		}
		if st.ready {
			mark()
		}
	}
	s.ready(nil, t0)
	if len(s.seen) != 0 {
		t.Errorf("a file gone from the folder is still remembered: %v", s.seen)
	}
}

func TestReadinessMarker(t *testing.T) {
	s := &source{cfg: config.Source{Ready: "marker", MarkerSuffix: ".done"}, seen: map[string]observation{}}
	now := time.Now()
	a := transport.Object{Path: "a.csv", Size: 5, ModTime: now}
	marker := transport.Object{Path: "a.csv.done", ModTime: now}
	if got := s.ready([]transport.Object{a}, now); len(got) != 0 {
		t.Fatalf("ready without its marker: %v", names(got))
	}
	got := s.ready([]transport.Object{a, marker}, now)
	if len(got) != 1 || got[0].Path != "a.csv" {
		t.Fatalf("with its marker: %v, want a.csv only (not the marker)", names(got))
	}
}
