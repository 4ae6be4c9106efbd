package inbound837

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen837p"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// TestSmallSetsJudgedTogether: one-claim transaction sets that wait for
// the judge together are judged in one call (up to finishBatchClaims
// claims), in file order, each claim once; a claim the judge rejects is
// rejected in its own set's 277CA, and every other claim accepted in its
// own.
func TestSmallSetsJudgedTogether(t *testing.T) {
	const n = 300
	var in bytes.Buffer
	if _, err := (gen837p.Options{Claims: n, PerSet: 1}).WriteTo(&in); err != nil {
		t.Fatal(err)
	}
	rejected := map[string]bool{"C7": true, "C250": true}
	var calls [][]string
	judge := func(cs []*Claim) error {
		if len(calls) == 0 {
			time.Sleep(100 * time.Millisecond) // the next sets wait meanwhile
		}
		var ids []string
		for _, c := range cs {
			ids = append(ids, c.ID)
			if rejected[c.ID] {
				c.Fail(snip.Duplicate, snip.RejectClaim, c.Line, "CLM", "a repeat")
			}
		}
		calls = append(calls, ids)
		return nil
	}
	var buf bytes.Buffer
	w277 := NewWriter277(x12.NewWriter(&buf, x12.DefaultDelimiters), &numbers{n: 500},
		Party{Name: "SUNRISE HEALTH PLAN", ID: "SHP001"}, func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) })
	sum, err := Edit(context.Background(), &in, Options{Ack277: w277, Judge: judge})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	most := 0
	for _, c := range calls {
		all = append(all, c...)
		most = max(most, len(c))
	}
	if len(all) != n {
		t.Fatalf("%d claims judged, want %d", len(all), n)
	}
	for i, id := range all {
		if id != "C"+strconv.Itoa(i) {
			t.Fatalf("judged %d-th: %s, want C%d (out of order or twice)", i, id, i)
		}
	}
	if most < 2 || most > finishBatchClaims {
		t.Errorf("at most %d claims judged in one call, want several sets together and at most %d", most, finishBatchClaims)
	}
	out := buf.String()
	if got := strings.Count(out, "~ST*277*"); got != n {
		t.Errorf("%d 277CA sets, want one per set (%d)", got, n)
	}
	for i := range n {
		id := "C" + strconv.Itoa(i)
		want := "TRN*2*" + id + "~STC*A2:20"
		if rejected[id] {
			want = "TRN*2*" + id + "~STC*A7:"
		}
		if !strings.Contains(out, want) {
			t.Errorf("277CA lacks %s", want)
		}
	}
	if sum.Claims != n || sum.ClaimsRejected != len(rejected) {
		t.Errorf("summary %+v", sum)
	}
}

// TestFinisherErrors: an error of Judge, OnClaim or OnSet ends Edit with
// that error, whatever claim it comes at, and nothing waits forever. When
// a set's OnClaim fails while a later batch's Judge has failed already
// (Judge runs beside the answers of earlier sets), Edit returns the
// earlier set's error: errors keep the file's order.
func TestFinisherErrors(t *testing.T) {
	const n = 3000
	var in []byte
	{
		var b bytes.Buffer
		if _, err := (gen837p.Options{Claims: n, PerSet: 100}).WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		in = b.Bytes()
	}
	errJudge, errClaim, errSet := errors.New("judge failed"), errors.New("claim failed"), errors.New("set failed")
	// The claim (or set) each callback fails at ("" never), or the Judge
	// call that fails (0 never).
	type at struct {
		judge, claim, set string
		judgeCall         int
	}
	for _, tt := range []struct {
		name string
		at   at
		want error
	}{
		{"judge at the first claim", at{judge: "C0"}, errJudge},
		{"judge at the last claim", at{judge: "C2999"}, errJudge},
		{"claim at the first", at{claim: "C0"}, errClaim},
		{"claim at the last", at{claim: "C2999"}, errClaim},
		{"set at the first", at{set: "0001"}, errSet},
		{"set at the last", at{set: "0030"}, errSet},
		{"an earlier claim after a later judge", at{judgeCall: 2, claim: "C0"}, errClaim},
		{"none", at{}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			judgeFailed := make(chan struct{})
			var judged, answered atomic.Int64
			calls := 0
			judge := func(cs []*Claim) error {
				if calls++; calls == tt.at.judgeCall {
					close(judgeFailed)
					return errJudge
				}
				for _, c := range cs {
					judged.Add(1)
					if c.ID == tt.at.judge {
						close(judgeFailed)
						return errJudge
					}
				}
				return nil
			}
			opts := Options{Judge: judge,
				OnClaim: func(c *Claim) error {
					answered.Add(1)
					if c.ID != tt.at.claim {
						return nil
					}
					if tt.at.judgeCall != 0 {
						// Wait until the judge, ahead of the answers (the
						// claims of its first call), failed.
						select {
						case <-judgeFailed:
						case <-time.After(10 * time.Second):
							t.Error("the judge never got ahead of the answers")
						}
					}
					return errClaim
				},
				OnSet: func(s *SetResult) error {
					if s.Control == tt.at.set {
						return errSet
					}
					return nil
				},
			}
			done := make(chan error, 1)
			go func() {
				_, err := Edit(context.Background(), bytes.NewReader(in), opts)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("Edit still runs after a minute")
			}
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Edit returned %v, want %v", err, tt.want)
			}
			if tt.want == nil && (judged.Load() != n || answered.Load() != n) {
				t.Errorf("%d claims judged and %d answered, want %d each", judged.Load(), answered.Load(), n)
			}
		})
	}
}
