package encounters

import (
	"context"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// unitCap is a judge that allows at most max units per member across the
// run: enough to check the hook's order and bookkeeping.
type unitCap struct {
	max   domain.Quantity
	used  map[string]domain.Quantity
	sent  []string
	calls int
}

func (u *unitCap) Judge(_ context.Context, _ store.Run, l *domain.InvoiceLine, leg *rules.CodeLeg) ([]rules.Decision, error) {
	u.calls++
	if leg == nil {
		return nil, nil
	}
	if u.used[l.Member.CIN]+l.Units > u.max {
		return []rules.Decision{{Rule: "TEST-CAP", Message: "over the cap"}}, nil
	}
	return nil, nil
}

func (u *unitCap) Sent(_ context.Context, _ store.Run, l *domain.InvoiceLine, _ *rules.CodeLeg) error {
	u.used[l.Member.CIN] += l.Units
	u.sent = append(u.sent, l.InvoiceNumber+"/"+l.LineNumber)
	return nil
}

func TestJudgesSeeEarlierLinesAndSkipDuplicates(t *testing.T) {
	e := newEnv(t)
	cap := &unitCap{max: 2000, used: map[string]domain.Quantity{}}
	in := e.file("a.csv", header,
		row("INV-1", 1, 1, 1, "H0043", "U6"), // 1 unit: sent
		row("INV-1", 2, 1, 1, "H0043", "U6"), // duplicate of line 1: must not count
		row("INV-1", 3, 1, 2, "H0043", "U6"), // 2 units total: sent
		row("INV-1", 4, 1, 3, "H0043", "U6"), // 3 > cap: rejected by the judge
		row("INV-2", 1, 2, 1, "99213", ""),   // stateless reject: the judge never sees it
	)
	res, err := Convert(context.Background(), Job{Inputs: []string{in}, OutDir: e.dir + "/out", Store: e.state, Config: e.cfg,
		Coding: rules.DefaultCodingTable(), Today: 20261123, Judges: []Judge{cap}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted() != 2 || res.Summary.ByRule["TEST-CAP"] != 1 || res.Summary.ByRule[rules.DuplicateLine] != 1 || res.Summary.ByRule[rules.CodeNotAllowed] != 1 {
		t.Fatalf("accepted %d, by rule %v", res.Accepted(), res.Summary.ByRule)
	}
	if len(cap.sent) != 2 || cap.sent[0] != "INV-1/1" || cap.sent[1] != "INV-1/3" {
		t.Errorf("sent = %v", cap.sent)
	}
	if cap.calls != 4 {
		t.Errorf("judge called %d times, want 4 (not for the stateless reject)", cap.calls)
	}
	// A line the judge rejected was not recorded as sent: with room again it goes.
	cap.used = map[string]domain.Quantity{}
	in2 := e.file("b.csv", header, row("INV-1", 4, 1, 3, "H0043", "U6"))
	res, err = Convert(context.Background(), Job{Inputs: []string{in2}, OutDir: e.dir + "/out2", Store: e.state, Config: e.cfg,
		Coding: rules.DefaultCodingTable(), Today: 20261123, Judges: []Judge{cap}})
	if err != nil || res.Accepted() != 1 {
		t.Fatalf("judge-rejected line later: %v accepted %d %v", err, res.Accepted(), res.Summary.ByRule)
	}
}
