package encounters

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/demo"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// enroll loads members into the state store as an 834 would: member m
// lives in county (a span from 2026-01-01 with that county).
func (e *env) enroll(counties map[int]string) {
	e.t.Helper()
	ctx := context.Background()
	l, err := e.state.(*store.SQLite).BeginEnrollmentLoad(ctx, store.LoadKind834, "test.834", [32]byte{byte(len(counties))})
	if err != nil {
		e.t.Fatal(err)
	}
	for m, county := range counties {
		c := &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: cinOf(m)}, County: county},
			Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: domain.EligibilitySpan{From: civil.Date(20260101), PlanCode: "306", County: county}}}}
		if err := l.PutMember(ctx, c); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "1", "test"); err != nil {
		e.t.Fatal(err)
	}
}

// enrollDemo loads the demo's 834, which gives the demo members the
// addresses their invoices leave out.
func (e *env) enrollDemo() {
	e.t.Helper()
	p, err := demo.Reference(filepath.Join(e.dir, "ref"), "enrollment.834")
	if err != nil {
		e.t.Fatal(err)
	}
	rs, err := rules.Load(rules.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	res := ingest.Ingest834(context.Background(), ingest.Job{Files: []string{p}, OutDir: filepath.Join(e.dir, "ref"), Store: e.state.(*store.SQLite),
		Config: e.cfg, Coding: rs.Coding, Tables: rs.Tables, Data: rs.Data})
	if res[0].Err != nil || !res[0].Committed {
		e.t.Fatalf("demo 834: %+v", res[0])
	}
}

func cinOf(m int) string { return fmt.Sprintf("9%07dA", m) }

// A plan serving two HCP codes (three counties) writes one 837P per HCP
// code: ISA06 TIN+HCP, GS02 and 1000A the TIN, receiver CALIFORNIA-DHCS,
// CLM01 prefixed with the HCP code, the DHCS file name; a member whose
// county has no HCP code is rejected as HCP-UNKNOWN.
func TestMultiCountyPlanWritesOne837PerHCP(t *testing.T) {
	e := newEnv(t)
	p := e.cfg.Partners[e.cfg.Encounters.TradingPartner]
	p.Plan.Name, p.Plan.TIN = "PLAN", "951234567"
	p.Plan.HCPCodes = map[string]string{"33": "305", "36": "306", "37": "306"}
	e.cfg.Partners[e.cfg.Encounters.TradingPartner] = p
	e.enroll(map[int]string{1: "33", 2: "36", 3: "37", 4: "19"})
	in := e.file("inv.csv", header,
		row("INV-1", 1, 1, 1, "G9008", "U1"),
		row("INV-2", 1, 2, 1, "G9008", "U1"),
		row("INV-3", 1, 3, 1, "G9008", "U1"),
		row("INV-4", 1, 4, 1, "G9008", "U1"),
	)
	res, err := e.convert("out", in)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range res.Outputs {
		names = append(names, filepath.Base(o))
	}
	want := []string{"PLAN_305_837P_MCE_20261123_00001.dat", "PLAN_306_837P_MCE_20261123_00001.dat"}
	if !slices.Equal(names, want) {
		t.Fatalf("outputs %v, want %v", names, want)
	}
	for i, hcp := range []string{"305", "306"} {
		segs := segments(t, res.Outputs[i])
		validate837(t, res.Outputs[i])
		claims := 0
		for _, s := range segs {
			switch s[0] {
			case "ISA":
				if strings.TrimSpace(s[6]) != "951234567"+hcp || strings.TrimSpace(s[8]) != "CALIFORNIA-DHCS" {
					t.Errorf("%s ISA06/ISA08 %q/%q", hcp, s[6], s[8])
				}
			case "GS":
				if s[2] != "951234567" || s[3] != "CALIFORNIA-DHCS" {
					t.Errorf("%s GS02/GS03 %q/%q", hcp, s[2], s[3])
				}
			case "NM1":
				if s[1] == "41" && s[9] != "951234567" {
					t.Errorf("%s 1000A NM109 %q, want the TIN", hcp, s[9])
				}
				if s[1] == "40" && (s[3] != "CALIFORNIA-DHCS" || s[9] != "610442") {
					t.Errorf("%s 1000B %v", hcp, s)
				}
			case "CLM":
				claims++
				if !strings.HasPrefix(s[1], hcp) {
					t.Errorf("CLM01 %q does not start with HCP %s", s[1], hcp)
				}
			}
		}
		if wantClaims := map[string]int{"305": 1, "306": 2}[hcp]; claims != wantClaims {
			t.Errorf("HCP %s: %d claims, want %d", hcp, claims, wantClaims)
		}
	}
	if res.Summary.ByRule[rules.HCPUnknown] != 1 {
		t.Errorf("rejects by rule %v, want one %s (county 19)", res.Summary.ByRule, rules.HCPUnknown)
	}
	// The next run of the day counts on.
	res2, err := e.convert("out", e.file("inv2.csv", header, row("INV-5", 1, 1, 2, "G9008", "U1")))
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Outputs) != 1 || filepath.Base(res2.Outputs[0]) != "PLAN_305_837P_MCE_20261123_00002.dat" {
		t.Errorf("second run outputs %v", res2.Outputs)
	}
}
