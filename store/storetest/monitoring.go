package storetest

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// monitoring: the lines a written run recorded come back with their member
// and authorizations, month by month (the first date of service decides),
// members in CIN order; an abandoned run's lines are gone; a month's
// submitted records are replaced per version, keep their type, parent and
// body, and take a response's status.
func monitoring(t *testing.T, open func(string) store.LedgerStore) {
	ls := open("a")
	s := enrollmentOf(t, ls)
	ms, ok := ls.(store.MonitoringStore)
	if !ok {
		t.Fatalf("%T is not a store.MonitoringStore", ls)
	}
	rec := ls.(store.ServiceRecorder)
	if at, err := ms.StateAsOf(ctx); err != nil || !at.IsZero() {
		t.Fatalf("empty store: %v %v", at, err)
	}
	l := loadEnrollment(t, s, "m.834", member("98765432B", upsert("2026-01-01", "")), member("91234567A", upsert("2026-01-01", "2026-10-15")))
	if err := l.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	al, err := s.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "a.csv", sha256.Sum256([]byte("a.csv")))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []domain.Authorization{
		{Number: "B-2", CIN: "91234567A", Service: "CS02", Status: domain.AuthDenied, Type: domain.AuthInitial, From: day("2026-10-01"), Decided: day("2026-11-03")},
		{Number: "B-1", CIN: "91234567A", Service: "ECM", POF: "POF1A", Status: domain.AuthApproved, Type: domain.AuthInitial, From: day("2026-09-01"), To: day("2027-02-28"), Decided: day("2026-08-30"), Units: 5000, HasUnits: true},
		{Number: "C-1", CIN: "55555555C", Service: "ECM", Status: domain.AuthPending, Type: domain.AuthInitial, From: day("2026-10-05")},
	} {
		if err := al.PutAuthorization(ctx, &a); err != nil {
			t.Fatal(err)
		}
	}
	if err := al.Commit(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	svc := func(cin, code string, from string) domain.SentService {
		return domain.SentService{CIN: cin, Service: "CS12", HCPCS: code, Modifiers: []string{"U6"}, From: day(from), To: day(from), Units: 14000, Charge: 21000, NPI: "1234567893"}
	}
	run := begin(t, ls)
	if err := rec.RecordServices(ctx, run, []domain.SentService{svc("91234567A", "S5170", "2026-10-31"), svc("91234567A", "S5170", "2026-11-01"), svc("98765432B", "S5170", "2026-10-01")}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "t", "o.837"); err != nil {
		t.Fatal(err)
	}
	if err := ls.CompleteRun(ctx, run.ID(), "ok"); err != nil {
		t.Fatal(err)
	}
	gone := begin(t, ls)
	if err := rec.RecordServices(ctx, gone, []domain.SentService{svc("98765432B", "S5170", "2026-10-02")}); err != nil {
		t.Fatal(err)
	}
	if err := gone.Abandon(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	type seen struct {
		cin      string
		enrolled bool
		auths    []string
		services []string
	}
	var got []seen
	err = ms.EachMonthMember(ctx, day("2026-10-01"), day("2026-10-31"), func(m *store.MonthMember) error {
		x := seen{cin: m.CIN, enrolled: m.Enrollee != nil}
		for _, a := range m.Auths {
			x.auths = append(x.auths, a.Number+" "+string(a.Status)+" "+a.Decided.String())
		}
		for _, sv := range m.Services {
			x.services = append(x.services, sv.HCPCS+" "+sv.From.String()+" "+sv.Units.String()+" "+sv.Charge.String())
		}
		got = append(got, x)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{"55555555C", false, []string{"C-1 pending "}, nil},
		{"91234567A", true, []string{"B-1 approved 2026-08-30", "B-2 denied 2026-11-03"}, []string{"S5170 2026-10-31 14 210"}},
		{"98765432B", true, nil, []string{"S5170 2026-10-01 14 210"}},
	}
	if len(got) != len(want) {
		t.Fatalf("members %+v", got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.cin != w.cin || g.enrolled != w.enrolled || len(g.auths) != len(w.auths) || len(g.services) != len(w.services) {
			t.Errorf("member %d: %+v, want %+v", i, g, w)
			continue
		}
		for j := range w.auths {
			if g.auths[j] != w.auths[j] {
				t.Errorf("member %s auth %d: %s, want %s", w.cin, j, g.auths[j], w.auths[j])
			}
		}
		for j := range w.services {
			if g.services[j] != w.services[j] {
				t.Errorf("member %s service %d: %s, want %s", w.cin, j, g.services[j], w.services[j])
			}
		}
	}
	if at, err := ms.StateAsOf(ctx); err != nil || at.IsZero() {
		t.Errorf("state time after loads: %v %v", at, err)
	}

	put := func(version int, ids ...string) {
		t.Helper()
		err := ms.ReplaceSubmission(ctx, "2026-10", version, func(yield func(store.SubmittedRecord) error) error {
			for _, id := range ids {
				r := store.SubmittedRecord{RecordID: id, DataSet: "ecmEnrollment", KeyHash: "k" + id, ContentHash: "c", CIN: "91234567A",
					Body: []byte(`"planCode":"305","cin":"91234567A"}`)}
				if version > 1 {
					r.RecordType, r.ParentID = "Void", "R2"
				}
				if err := yield(r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	latest := func(want int, wantResponded bool) {
		t.Helper()
		v, r, err := ms.LatestVersion(ctx, "2026-10")
		if err != nil || v != want || r != wantResponded {
			t.Errorf("latest version %d %v %v, want %d %v", v, r, err, want, wantResponded)
		}
	}
	latest(0, false)
	put(1, "R1", "R2")
	put(1, "R1", "R3") // the same version built again replaces the first build's records
	latest(1, false)
	n, err := ms.SetRecordStatuses(ctx, []store.SubmittedRecord{{RecordID: "R3", Status: store.RecordRejected, Responses: "0x1 Error: bad"}, {RecordID: "R2", Status: store.RecordAccepted}})
	if err != nil || n != 1 {
		t.Fatalf("statuses: %d %v", n, err)
	}
	latest(1, true)
	put(2, "R4")
	latest(2, false)
	recs, err := ms.SubmittedRecords(ctx, "2026-10")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.RecordID+"/"+r.Status)
		if r.Month != "2026-10" || r.DataSet != "ecmEnrollment" || r.CIN != "91234567A" {
			t.Errorf("record %+v", r)
		}
	}
	if got, want := ids, []string{"R1/", "R3/Rejected", "R4/"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("records %v, want %v", got, want)
	}
	if recs[1].Responses != "0x1 Error: bad" || recs[2].Version != 2 {
		t.Errorf("records %+v", recs)
	}
	// What was sent is remembered: the record type, the parent record and
	// the body a later Void carries again.
	for i, want := range []struct{ typ, parent string }{{"Original", ""}, {"Original", ""}, {"Void", "R2"}} {
		if r := recs[i]; r.RecordType != want.typ || r.ParentID != want.parent || r.Body != nil {
			t.Errorf("record %s: type %q parent %q body %q, want %q %q and no body", r.RecordID, r.RecordType, r.ParentID, r.Body, want.typ, want.parent)
		}
	}
	var each []string
	err = ms.EachSubmittedRecord(ctx, "2026-10", 2, func(r *store.SubmittedRecord) error {
		each = append(each, fmt.Sprintf("%s/%d/%s/%s", r.RecordID, r.Version, r.Status, r.RecordType))
		return nil
	})
	if err != nil || strings.Join(each, " ") != "R1/1//Original R3/1/Rejected/Original" {
		t.Errorf("records before version 2: %v %v", each, err)
	}
	bodies, err := ms.SubmittedBodies(ctx, []string{"R1", "R4", "R2", "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 2 || string(bodies["R1"]) != `"planCode":"305","cin":"91234567A"}` || string(bodies["R4"]) != string(bodies["R1"]) {
		t.Errorf("bodies %q, want R1's and R4's (R2 was replaced, nope never sent)", bodies)
	}
	if bodies, err := ms.SubmittedBodies(ctx, nil); err != nil || len(bodies) != 0 {
		t.Errorf("no IDs: %v %v", bodies, err)
	}
	// More IDs than one query names.
	var many []string
	for i := range 1201 {
		many = append(many, fmt.Sprintf("M%04d", i))
	}
	put(3, many...)
	if bodies, err := ms.SubmittedBodies(ctx, many); err != nil || len(bodies) != len(many) {
		t.Errorf("bodies of %d records: %d %v", len(many), len(bodies), err)
	}
}
