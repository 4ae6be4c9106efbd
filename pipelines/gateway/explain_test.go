package gateway

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// demoGateway loads the demo's roster, 834 and authorizations into a fresh
// state directory and converts the demo invoices once.
func demoGateway(t *testing.T) *Gateway {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if err := ResetDemo(dir); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "inputs")
	inputs, err := DemoInputs(in)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Open(ctx, Options{State: filepath.Join(dir, "state"), Now: time.Date(2026, 10, 15, 9, 30, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(g.Close)
	ref := func(name string) string {
		p, err := DemoReference(in, name)
		if err != nil || p == "" {
			t.Fatalf("demo %s: %q %v", name, p, err)
		}
		return p
	}
	if _, err := g.IngestRoster(ctx, []string{ref("roster.csv")}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct{ kind, file string }{{"834", "enrollment.834"}, {"auth", "authorizations.csv"}} {
		if _, err := g.Ingest(ctx, k.kind, []string{ref(k.file)}, filepath.Join(dir, "reports")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.Convert(ctx, inputs, filepath.Join(dir, "out"), false); err != nil {
		t.Fatal(err)
	}
	return g
}

func factKinds(d store.LineDecision) map[string][]string {
	m := map[string][]string{}
	for _, f := range d.Facts {
		m[f.Kind] = append(m[f.Kind], f.Detail)
	}
	return m
}

// The judges record, when they decide, the rule that decided a line with
// its source citation and the facts it used; Explain returns them.
func TestExplainRecordsTheEvidenceOfEachDecision(t *testing.T) {
	g := demoGateway(t)
	ctx := context.Background()

	// Accepted: the 834 span, the authorization named, the coding-table
	// row with its dates, the roster contract.
	ds, err := g.Explain(ctx, "INV-2026-0101", "1")
	if err != nil || len(ds) != 1 {
		t.Fatalf("INV-2026-0101 line 1: %+v %v", ds, err)
	}
	d := ds[0]
	if d.Outcome != store.OutcomeAccepted || d.Rule != "" || d.Code != "H0043 U6" || d.From != "2026-09-01" || d.NPI != "1456789019" || d.Row != 2 {
		t.Fatalf("accepted line = %+v", d)
	}
	k := factKinds(d)
	if len(k["span"]) == 0 || !strings.HasPrefix(k["span"][0], "834 span ") {
		t.Errorf("no 834 span: %v", k)
	}
	if !anyContains(k["authorization"], "AUTH-CS-1001") {
		t.Errorf("no authorization AUTH-CS-1001: %v", k["authorization"])
	}
	if !anyContains(k["coding"], "H0043 U6") || !anyContains(k["coding"], "in force 20") {
		t.Errorf("no coding row: %v", k["coding"])
	}
	if !anyContains(k["contract"], "NPI 1456789019") {
		t.Errorf("no roster contract: %v", k["contract"])
	}
	if !anyContains(k["sent"], "line control ") {
		t.Errorf("no line control: %v", k["sent"])
	}

	// Rejected by two rules: the first decides, with its citation; the
	// second is listed; the facts say why.
	ds, err = g.Explain(ctx, "INV-2026-0102", "2")
	if err != nil || len(ds) != 1 {
		t.Fatalf("INV-2026-0102 line 2: %+v %v", ds, err)
	}
	d = ds[0]
	if d.Outcome != store.OutcomeRejected || d.Rule != "ELIG-NOT-ENROLLED" || !strings.Contains(d.Source, "S004:109") || d.Field != "service_from" {
		t.Fatalf("rejected line = %+v", d)
	}
	k = factKinds(d)
	if !anyContains(k["also"], "AUTH-MISSING") || !anyContains(k["authorization"], "AUTH-CS-1002") {
		t.Errorf("facts of the rejected line: %v", k)
	}
	// A line the stateless rules rejected has no judge facts.
	ds, _ = g.Explain(ctx, "INV-2026-0103", "2")
	if len(ds) != 1 || ds[0].Rule != "CODE-NOT-ALLOWED" || ds[0].Source == "" || len(factKinds(ds[0])["span"]) != 0 {
		t.Fatalf("INV-2026-0103 line 2 = %+v", ds)
	}
	// Unknown invoice: nothing.
	if ds, err := g.Explain(ctx, "NOPE", "1"); err != nil || len(ds) != 0 {
		t.Fatalf("unknown invoice: %+v %v", ds, err)
	}
	for _, d := range mustExplainAll(t, g, "INV-2026-0101") {
		t.Logf("%s line %s: %s %s %v", d.Invoice, d.LineNo, d.Outcome, d.Rule, d.Facts)
	}
}

func mustExplainAll(t *testing.T, g *Gateway, inv string) []store.LineDecision {
	ds, err := g.Explain(context.Background(), inv, "")
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func anyContains(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
