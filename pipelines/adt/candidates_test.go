package adt

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// The candidates for the avoidable-utilization populations of focus: an
// adult with 5 ED visits in 6 months, a child with 2 inpatient stays in
// 12 (one an ED visit that became a stay) and an adult with 3 emergency
// stays (PV1-4 E) are listed; a member with an ECM authorization, one
// whose 5th ED visit was cancelled, an adult with 2 stays, an adult with 3
// elective stays (PV1-4 C) and one whose 3 stays an A08 later made
// elective are not (POF-UNPLANNED-STAY): the planned stays are counted
// apart.
func TestCandidatesAvoidableUtilization(t *testing.T) {
	const a, b, c, d, e = "91111111A", "92222222B", "93333333C", "94444444D", "95555555E"
	const f, g, h, i = "96666666F", "97777777G", "98888888H", "99999999I"
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "m.834", [32]byte{7})
	if err != nil {
		t.Fatal(err)
	}
	dobs := map[string]civil.Date{a: civil.New(1980, 1, 1), b: civil.New(1970, 5, 5), c: civil.New(2015, 1, 1), d: civil.New(1990, 3, 3), e: civil.New(1960, 2, 2),
		f: civil.New(1950, 4, 4), g: civil.New(1950, 4, 4), h: civil.New(1950, 4, 4), i: civil.New(2016, 1, 1)}
	for cin, dob := range dobs {
		if err := l.PutMember(ctx, &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: cin, DOB: dob}, County: "34"},
			Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: domain.EligibilitySpan{From: civil.Date(20200101), PlanCode: "306", County: "34"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "1", ""); err != nil {
		t.Fatal(err)
	}
	al, _ := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "auth.csv", [32]byte{8})
	if err := al.PutAuthorization(ctx, &domain.Authorization{Number: "AU1", CIN: b, Service: "ECM", ProviderNPI: "1234567893", Status: domain.AuthApproved,
		Type: domain.AuthInitial, From: civil.Date(20260101)}); err != nil {
		t.Fatal(err)
	}
	if err := al.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	n := 0
	var items []store.ADTItem
	add := func(cin string, kind domain.ADTKind, class, visit string, day civil.Date) {
		n++
		at := time.Date(day.Year(), day.Month(), day.Day(), 18, 0, 0, 0, time.UTC)
		id := fmt.Sprintf("U%d", n)
		items = append(items, store.ADTItem{Sender: "stm", ControlID: id, Source: "f", Position: n, ReceivedAt: at,
			Event: domain.ADTEvent{Sender: "stm", ControlID: id, Trigger: "A", Kind: kind, CIN: cin, PatientClass: class, VisitNumber: visit, EventTime: at, MessageTime: at}})
	}
	days := []civil.Date{civil.New(2026, 1, 10), civil.New(2026, 2, 10), civil.New(2026, 3, 10), civil.New(2026, 4, 10), civil.New(2026, 5, 10)}
	for _, cin := range []string{a, b, d} {
		for _, day := range days {
			add(cin, domain.ADTRegister, "E", "", day)
		}
	}
	add(d, domain.ADTCancelAdmit, "E", "", civil.New(2026, 5, 11)) // cancels D's 5th ED visit
	add(a, domain.ADTRegister, "E", "", civil.New(2025, 12, 1))    // before the window: not counted
	add(c, domain.ADTRegister, "E", "V1", civil.New(2025, 9, 1))
	add(c, domain.ADTToInpatient, "I", "V1", civil.New(2025, 9, 2))
	add(c, domain.ADTAdmit, "I", "V2", civil.New(2026, 6, 30))
	// A child's stay begun in the ED two days before the 12-month window
	// (the longest) is dated then: with one stay in the window, I has one.
	add(i, domain.ADTRegister, "E", "W1", civil.New(2025, 6, 29))
	add(i, domain.ADTToInpatient, "I", "W1", civil.New(2025, 7, 1))
	add(i, domain.ADTAdmit, "I", "W2", civil.New(2026, 3, 1))
	add(e, domain.ADTAdmit, "I", "V8", civil.New(2026, 2, 1))
	add(e, domain.ADTAdmit, "I", "V9", civil.New(2026, 3, 1))
	for i, day := range days[:3] {
		visit := fmt.Sprintf("S%d", i)
		add(f, domain.ADTAdmit, "I", visit, day)
		items[len(items)-1].Event.AdmissionType = "C"
		add(g, domain.ADTAdmit, "I", visit, day)
		items[len(items)-1].Event.AdmissionType = "E"
		add(h, domain.ADTAdmit, "I", visit, day)
		add(h, domain.ADTUpdate, "I", visit, day.AddDays(1))
		items[len(items)-1].Event.AdmissionType = "C"
	}
	if _, err := st.RecordADT(ctx, items); err != nil {
		t.Fatal(err)
	}
	tabs := rules.DefaultTables()
	res, err := Candidates(ctx, st, tabs.Utilization, tabs.AdmissionTypes, rules.DefaultEligibilityTables(), civil.New(2026, 6, 30), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, cd := range res.Candidates {
		got = append(got, fmt.Sprintf("%s %s age %d ed %d ip %d from %s", cd.CIN, cd.POF, cd.Age, cd.EDVisits, cd.InpatientStays, cd.WindowFrom))
	}
	want := []string{a + " POF2A age 46 ed 5 ip 0 from 2025-12-31", c + " POF2B age 11 ed 0 ip 2 from 2025-07-01", g + " POF2A age 76 ed 0 ip 3 from 2025-12-31"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("candidates:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.Members != 9 || res.Authorized != 1 || res.NoDOB != 0 || res.Planned != 6 {
		t.Errorf("result %+v, want 9 members with visits, 1 authorized, 6 planned stays", res)
	}
	var buf bytes.Buffer
	if err := WriteCandidates(&buf, res.Candidates); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(CandidatesHeader, ",") || rows[1][7] != "S004 L276-277" {
		t.Errorf("csv %v %v", rows, err)
	}
}

// A member holding an approved ECM authorization in force on the as-of date
// is left out even when it names no provider; one whose authorization
// without an end date ran out with its policy period (12 months for an
// initial one) is listed.
func TestCandidatesECMAuthorizationInForce(t *testing.T) {
	const anyProvider, lapsed = "91111111A", "92222222B"
	st := newStore(t)
	l, err := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "m.834", [32]byte{7})
	if err != nil {
		t.Fatal(err)
	}
	for _, cin := range []string{anyProvider, lapsed} {
		if err := l.PutMember(ctx, &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: cin, DOB: civil.New(1980, 1, 1)}, County: "34"},
			Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: domain.EligibilitySpan{From: civil.Date(20200101), PlanCode: "306", County: "34"}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx, "1", ""); err != nil {
		t.Fatal(err)
	}
	al, err := st.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "auth.csv", [32]byte{8})
	if err != nil {
		t.Fatal(err)
	}
	for _, au := range []domain.Authorization{
		{Number: "AU1", CIN: anyProvider, Service: "ECM", Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20260101)},
		{Number: "AU2", CIN: lapsed, Service: "ECM", ProviderNPI: "1234567893", Status: domain.AuthApproved, Type: domain.AuthInitial, From: civil.Date(20240601)},
	} {
		if err := al.PutAuthorization(ctx, &au); err != nil {
			t.Fatal(err)
		}
	}
	if err := al.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	var items []store.ADTItem
	for _, cin := range []string{anyProvider, lapsed} {
		for m := 1; m <= 5; m++ {
			at := time.Date(2026, time.Month(m), 10, 18, 0, 0, 0, time.UTC)
			id := fmt.Sprintf("%s-%d", cin, m)
			items = append(items, store.ADTItem{Sender: "stm", ControlID: id, Source: "f", Position: len(items) + 1, ReceivedAt: at,
				Event: domain.ADTEvent{Sender: "stm", ControlID: id, Trigger: "A04", Kind: domain.ADTRegister, CIN: cin, PatientClass: "E", EventTime: at, MessageTime: at}})
		}
	}
	if _, err := st.RecordADT(ctx, items); err != nil {
		t.Fatal(err)
	}
	tabs := rules.DefaultTables()
	res, err := Candidates(ctx, st, tabs.Utilization, tabs.AdmissionTypes, rules.DefaultEligibilityTables(), civil.New(2026, 6, 30), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Candidates) != 1 || res.Candidates[0].CIN != lapsed || res.Authorized != 1 {
		t.Errorf("candidates %+v, authorized %d: want %s alone listed, %s left out as authorized", res.Candidates, res.Authorized, lapsed, anyProvider)
	}
}
