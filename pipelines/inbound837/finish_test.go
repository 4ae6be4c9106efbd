package inbound837

import (
	"bytes"
	"context"
	"strconv"
	"strings"
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
