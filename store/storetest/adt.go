package storetest

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/store"
)

func adtOf(t *testing.T, s store.LedgerStore) store.ADTStore {
	t.Helper()
	a, ok := s.(store.ADTStore)
	if !ok {
		t.Fatalf("%T is not a store.ADTStore", s)
	}
	return a
}

var adtT0 = time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)

func adtItem(sender, id string, kind domain.ADTKind, cin, visit string, hour int) store.ADTItem {
	t := adtT0.Add(time.Duration(hour) * time.Hour)
	return store.ADTItem{Sender: sender, ControlID: id, Source: "adt.hl7", Position: hour + 1, Line: 10*hour + 1, ReceivedAt: t.Add(time.Minute),
		Event: domain.ADTEvent{Sender: sender, ControlID: id, Trigger: "A", Kind: kind, CIN: cin, VisitNumber: visit, EventTime: t, MessageTime: t,
			Facility: "STMARYS", PatientClass: "I", AdmissionType: "E", AdmitTime: t,
			Diagnoses: []domain.Diagnosis{{Code: "J18.9", System: "I10", Type: "A", Text: "Pneumonia"}}}}
}

func recordADT(t *testing.T, a store.ADTStore, items ...store.ADTItem) []store.ADTOutcome {
	t.Helper()
	out, err := a.RecordADT(ctx, items)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func adtStatuses(out []store.ADTOutcome) []string {
	var s []string
	for _, o := range out {
		s = append(s, o.Status)
	}
	return s
}

func activeKinds(t *testing.T, a store.ADTStore, cin string) []string {
	t.Helper()
	evs, err := a.ADTEvents(ctx, cin)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		k := string(e.Kind)
		if e.Cancelled {
			k += " (cancelled by " + e.CancelledBy + ")"
		}
		out = append(out, k)
	}
	return out
}

// adtWithMembers opens a store whose 834 holds the members 91234567A
// and 98765432B, and returns its ADT component.
func adtWithMembers(t *testing.T, open func(string) store.LedgerStore) store.ADTStore {
	t.Helper()
	s := open("a")
	l := loadEnrollment(t, enrollmentOf(t, s), "m.834", member("91234567A", upsert("2025-01-01", "")), member("98765432B", upsert("2025-01-01", "")))
	if err := l.Commit(ctx, "ZZ/1", ""); err != nil {
		t.Fatal(err)
	}
	return adtOf(t, s)
}

// adtEvents: a message is stored once per sender and MSH-10; an unknown
// member or a problem goes to the exceptions with its source and position;
// events read back as written.
func adtEvents(t *testing.T, open func(string) store.LedgerStore) {
	a := adtWithMembers(t, open)
	noCIN := adtItem("stm", "M5", domain.ADTAdmit, "", "", 4)
	problem := adtItem("stm", "M6", domain.ADTAdmit, "91234567A", "", 5)
	problem.Problem, problem.Raw = "field PV1-44: bad time", []byte("MSH|...")
	out := recordADT(t, a,
		adtItem("stm", "M1", domain.ADTAdmit, "91234567A", "V1", 0),
		adtItem("stm", "M1", domain.ADTAdmit, "91234567A", "V1", 1),   // the same MSH-10 again
		adtItem("mercy", "M1", domain.ADTAdmit, "98765432B", "V9", 2), // another sender's M1
		adtItem("stm", "M3", domain.ADTAdmit, "99999999Z", "", 3),     // not a member
		noCIN, problem)
	want := []string{store.ADTStored, store.ADTDuplicate, store.ADTStored, store.ADTException, store.ADTException, store.ADTException}
	if got := adtStatuses(out); !equalStrings(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if out[3].Reason != store.ADTUnknownMember || out[4].Reason != store.ADTNoCIN || out[5].Reason != "field PV1-44: bad time" {
		t.Errorf("reasons %+v", out)
	}
	// A batch recorded again changes nothing.
	if got := adtStatuses(recordADT(t, a, adtItem("stm", "M1", domain.ADTAdmit, "91234567A", "V1", 0), noCIN)); !equalStrings(got, []string{store.ADTDuplicate, store.ADTDuplicate}) {
		t.Errorf("again: %v", got)
	}
	evs, err := a.ADTEvents(ctx, "91234567A")
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %+v %v", evs, err)
	}
	ev := evs[0]
	if ev.ID != out[0].EventID || ev.ControlID != "M1" || ev.Sender != "stm" || ev.Kind != domain.ADTAdmit || ev.VisitNumber != "V1" ||
		!ev.EventTime.Equal(adtT0) || !ev.AdmitTime.Equal(adtT0) || !ev.DischargeTime.IsZero() || !ev.ReceivedAt.Equal(adtT0.Add(time.Minute)) ||
		ev.Source != "adt.hl7" || ev.Position != 1 || ev.Facility != "STMARYS" || ev.PatientClass != "I" || ev.AdmissionType != "E" || ev.Cancelled || ev.Noticed ||
		len(ev.Diagnoses) != 1 || ev.Diagnoses[0] != (domain.Diagnosis{Code: "J18.9", System: "I10", Type: "A", Text: "Pneumonia"}) {
		t.Errorf("event %+v", ev)
	}
	exc, err := a.ADTExceptions(ctx, time.Time{})
	if err != nil || len(exc) != 3 {
		t.Fatalf("exceptions %+v %v", exc, err)
	}
	if x := exc[0]; x.ControlID != "M3" || x.Source != "adt.hl7" || x.Position != 4 || x.Line != 31 || x.Reason != store.ADTUnknownMember {
		t.Errorf("exception %+v", x)
	}
	if string(exc[2].Raw) != "MSH|..." {
		t.Errorf("raw message %q", exc[2].Raw)
	}
	if later, _ := a.ADTExceptions(ctx, adtT0.Add(5*time.Hour)); len(later) != 1 {
		t.Errorf("exceptions since: %d", len(later))
	}
	var between []string
	if err := a.ADTEventsBetween(ctx, adtT0, adtT0.Add(2*time.Hour+time.Second), func(r *store.ADTEventRecord) error {
		between = append(between, r.Sender+"/"+r.ControlID)
		return nil
	}); err != nil || !equalStrings(between, []string{"stm/M1", "mercy/M1"}) {
		t.Errorf("between %v %v", between, err)
	}
	if err := a.ADTEventsBetween(ctx, adtT0, adtT0.Add(2*time.Hour), func(r *store.ADTEventRecord) error { between = append(between, "x"); return nil }); err != nil || len(between) != 3 {
		t.Errorf("the end of the window is excluded: %v", between)
	}
}

// adtMemberLoadedLater: a message for a CIN not in the enrollment data is
// an exception; once an 834 adds the member, the next message for it is
// stored, however many batches read the CIN before, and a member read by
// an earlier batch stays a member.
func adtMemberLoadedLater(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	l := loadEnrollment(t, enrollmentOf(t, s), "m1.834", member("91234567A", upsert("2025-01-01", "")))
	if err := l.Commit(ctx, "ZZ/1", ""); err != nil {
		t.Fatal(err)
	}
	a := adtOf(t, s)
	for i, id := range []string{"M1", "M2"} {
		out := recordADT(t, a, adtItem("stm", id, domain.ADTAdmit, "91234567A", "V1", 2*i), adtItem("stm", id+"x", domain.ADTAdmit, "98765432B", "V9", 2*i+1))
		if got, want := adtStatuses(out), []string{store.ADTStored, store.ADTException}; !equalStrings(got, want) {
			t.Fatalf("batch %d before the load: %v, want %v", i+1, got, want)
		}
	}
	l = loadEnrollment(t, enrollmentOf(t, s), "m2.834", member("98765432B", upsert("2025-01-01", "")))
	if err := l.Commit(ctx, "ZZ/2", ""); err != nil {
		t.Fatal(err)
	}
	out := recordADT(t, a, adtItem("stm", "M3", domain.ADTAdmit, "91234567A", "V1", 5), adtItem("stm", "M3x", domain.ADTAdmit, "98765432B", "V9", 6))
	if got, want := adtStatuses(out), []string{store.ADTStored, store.ADTStored}; !equalStrings(got, want) {
		t.Fatalf("after the load: %v, want %v", got, want)
	}
	if got := activeKinds(t, a, "98765432B"); !equalStrings(got, []string{"admit"}) {
		t.Errorf("events of the member loaded later: %v", got)
	}
	// A message kept as an exception for its unknown member, sent again
	// once the member is loaded, is stored (once, the batch's second copy
	// a duplicate); a message stored is a duplicate when sent again.
	out = recordADT(t, a, adtItem("stm", "M1x", domain.ADTAdmit, "98765432B", "V8", 7), adtItem("stm", "M1x", domain.ADTAdmit, "98765432B", "V8", 8),
		adtItem("stm", "M1", domain.ADTAdmit, "91234567A", "V1", 9))
	if got, want := adtStatuses(out), []string{store.ADTStored, store.ADTDuplicate, store.ADTDuplicate}; !equalStrings(got, want) {
		t.Fatalf("sent again after the load: %v, want %v", got, want)
	}
	out = recordADT(t, a, adtItem("stm", "M1x", domain.ADTAdmit, "98765432B", "V8", 10))
	if got, want := adtStatuses(out), []string{store.ADTDuplicate}; !equalStrings(got, want) {
		t.Fatalf("sent a third time: %v, want %v", got, want)
	}
	if got := activeKinds(t, a, "98765432B"); !equalStrings(got, []string{"admit", "admit"}) {
		t.Errorf("events of the member loaded later, its first message sent again: %v", got)
	}
}

// adtUnknownMemberSentAgain: a message kept as an exception for its
// unknown member and read again while the member is still unknown (a
// resend, a file read again) is a duplicate, not a second exception.
func adtUnknownMemberSentAgain(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	a := adtOf(t, s)
	for i := range 2 {
		out := recordADT(t, a, adtItem("stm", "U1", domain.ADTAdmit, "98765432B", "V9", i))
		want := []string{store.ADTException}
		if i > 0 {
			want = []string{store.ADTDuplicate}
		}
		if got := adtStatuses(out); !equalStrings(got, want) {
			t.Fatalf("reading %d: %v, want %v", i+1, got, want)
		}
	}
	exc, err := a.ADTExceptions(ctx, time.Time{})
	if err != nil || len(exc) != 1 {
		t.Fatalf("exceptions: %d %v", len(exc), err)
	}
}

// adtCancelsMergesUpdates: A11/A12/A13 cancel the latest event of their
// kind for the member (and visit); A08 updates the visit; A40 moves the
// prior CIN's events and later events of the prior CIN.
func adtCancelsMergesUpdates(t *testing.T, open func(string) store.LedgerStore) {
	a := adtWithMembers(t, open)
	upd := adtItem("stm", "U1", domain.ADTUpdate, "91234567A", "V2", 4)
	upd.Event.PatientClass, upd.Event.Facility, upd.Event.Diagnoses, upd.Event.AdmissionType = "O", "", nil, "U"
	upd.Event.DischargeTime = adtT0.Add(50 * time.Hour)
	out := recordADT(t, a,
		adtItem("stm", "A1", domain.ADTAdmit, "91234567A", "V1", 0),
		adtItem("stm", "A2", domain.ADTAdmit, "91234567A", "V2", 1),
		adtItem("stm", "D1", domain.ADTDischarge, "91234567A", "V2", 2),
		adtItem("stm", "C13", domain.ADTCancelDischarge, "91234567A", "V2", 3),
		upd,
		adtItem("stm", "C11", domain.ADTCancelAdmit, "91234567A", "V1", 5),  // visit V1's admit, not the later V2
		adtItem("stm", "C12", domain.ADTCancelTransfer, "91234567A", "", 6), // nothing to cancel
	)
	if out[3].Cancelled != out[2].EventID || out[5].Cancelled != out[0].EventID || out[6].Cancelled != 0 || out[6].Status != store.ADTStored {
		t.Errorf("cancels %+v", out)
	}
	if out[4].Updated != 1 {
		t.Errorf("A08 updated %d events of the visit, want 1 (its admit; the discharge is cancelled) %+v", out[4].Updated, out[4])
	}
	want := []string{"admit (cancelled by C11)", "admit", "discharge (cancelled by C13)", "cancel-discharge", "update", "cancel-admit", "cancel-transfer"}
	if got := activeKinds(t, a, "91234567A"); !equalStrings(got, want) {
		t.Errorf("events\n%v\nwant\n%v", got, want)
	}
	evs, _ := a.ADTEvents(ctx, "91234567A")
	if v2 := evs[1]; v2.PatientClass != "O" || v2.AdmissionType != "U" || v2.Facility != "STMARYS" || len(v2.Diagnoses) != 1 || !v2.DischargeTime.Equal(adtT0.Add(50*time.Hour)) {
		t.Errorf("A08 did not update the visit's admit: %+v", v2)
	}
	if v1 := evs[0]; v1.PatientClass != "I" || v1.AdmissionType != "E" || !v1.DischargeTime.IsZero() {
		t.Errorf("A08 updated another visit: %+v", v1)
	}
	// A40: 91234567A merges into 98765432B.
	merge := adtItem("stm", "G1", domain.ADTMerge, "98765432B", "", 7)
	merge.Event.PriorCIN = "91234567A"
	if o := recordADT(t, a, merge)[0]; o.Status != store.ADTStored || o.Merged != 7 {
		t.Errorf("merge %+v", o)
	}
	if got := activeKinds(t, a, "91234567A"); len(got) != 0 {
		t.Errorf("prior CIN keeps %v", got)
	}
	if got := activeKinds(t, a, "98765432B"); len(got) != 8 {
		t.Errorf("surviving CIN has %v", got)
	}
	// A later message naming the prior CIN lands on the surviving one.
	if o := recordADT(t, a, adtItem("mercy", "L1", domain.ADTRegister, "91234567A", "", 8))[0]; o.Status != store.ADTStored {
		t.Errorf("after the merge: %+v", o)
	}
	if got := activeKinds(t, a, "98765432B"); len(got) != 9 || got[8] != "register" {
		t.Errorf("surviving CIN has %v", got)
	}
}

// adtCancelsOfTheVisit: A11, A12 and A13 each cancel the latest active
// event of their kinds by event time, whatever order the events came in,
// of their own visit when both have a visit number, else of any visit.
func adtCancelsOfTheVisit(t *testing.T, open func(string) store.LedgerStore) {
	tests := []struct {
		name   string
		kind   domain.ADTKind
		cancel domain.ADTKind
	}{
		{"A11", domain.ADTAdmit, domain.ADTCancelAdmit},
		{"A12", domain.ADTTransfer, domain.ADTCancelTransfer},
		{"A13", domain.ADTDischarge, domain.ADTCancelDischarge},
	}
	a := adtWithMembers(t, open)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Each case its own sender profile (cancels stay within their
			// sending system). V1's event at hour 1 came after V1's at
			// hour 2; V2's is the member's latest.
			s := "stm-" + tt.name
			out := recordADT(t, a,
				adtItem(s, "E2", tt.kind, "91234567A", "V1", 2),
				adtItem(s, "E1", tt.kind, "91234567A", "V1", 1),
				adtItem(s, "E3", tt.kind, "91234567A", "V2", 3),
				adtItem(s, "C1", tt.cancel, "91234567A", "V1", 4), // V1's latest: E2
				adtItem(s, "C2", tt.cancel, "91234567A", "", 5),   // no visit: the latest, E3
				adtItem(s, "C3", tt.cancel, "91234567A", "V1", 6), // V1's latest left: E1
				adtItem(s, "C4", tt.cancel, "91234567A", "V2", 7), // none left
			)
			want := []int64{out[0].EventID, out[2].EventID, out[1].EventID, 0}
			for i, w := range want {
				if got := out[3+i].Cancelled; got != w {
					t.Errorf("C%d cancelled event %d, want %d", i+1, got, w)
				}
			}
		})
	}
}

// adtAdmissionType: PV1-4 reads back as written, "" (not sent) included,
// by ADTEvents and ADTEventsBetween; an A08 sets it on its visit's events
// whether they are stored or still waiting in the batch, and an A08
// without one leaves it.
func adtAdmissionType(t *testing.T, open func(string) store.LedgerStore) {
	a := adtWithMembers(t, open)
	none := adtItem("stm", "A2", domain.ADTAdmit, "91234567A", "V2", 1)
	none.Event.AdmissionType = ""
	waiting := adtItem("stm", "A3", domain.ADTAdmit, "91234567A", "V3", 2)
	waiting.Event.AdmissionType = ""
	setV3 := adtItem("stm", "U3", domain.ADTUpdate, "91234567A", "V3", 3)
	setV3.Event.AdmissionType = "L"
	recordADT(t, a, adtItem("stm", "A1", domain.ADTAdmit, "91234567A", "V1", 0), none, waiting, setV3)
	keepV3 := adtItem("stm", "U4", domain.ADTUpdate, "91234567A", "V3", 4)
	keepV3.Event.AdmissionType = ""
	setV2 := adtItem("stm", "U5", domain.ADTUpdate, "91234567A", "V2", 5)
	setV2.Event.AdmissionType = "N"
	if out := recordADT(t, a, keepV3, setV2); out[0].Updated != 1 || out[1].Updated != 1 {
		t.Errorf("A08s updated %d and %d events, want 1 and 1", out[0].Updated, out[1].Updated)
	}
	want := map[string]string{"A1": "E", "A2": "N", "A3": "L", "U3": "L", "U4": "", "U5": "N"}
	evs, err := a.ADTEvents(ctx, "91234567A")
	if err != nil || len(evs) != len(want) {
		t.Fatalf("events %+v %v", evs, err)
	}
	for _, ev := range evs {
		if ev.AdmissionType != want[ev.ControlID] {
			t.Errorf("ADTEvents %s: admission type %q, want %q", ev.ControlID, ev.AdmissionType, want[ev.ControlID])
		}
	}
	n := 0
	if err := a.ADTEventsBetween(ctx, adtT0, adtT0.Add(24*time.Hour), func(r *store.ADTEventRecord) error {
		n++
		if r.AdmissionType != want[r.ControlID] {
			t.Errorf("ADTEventsBetween %s: admission type %q, want %q", r.ControlID, r.AdmissionType, want[r.ControlID])
		}
		return nil
	}); err != nil || n != len(want) {
		t.Errorf("between: %d events, %v", n, err)
	}
}

// adtNotices: events wait for the notice job until it records what it
// wrote; notices keep when the event was received and when they were
// written.
func adtNoticesRecorded(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	e := enrollmentOf(t, s)
	l := loadEnrollment(t, e, "m.834", member("91234567A", upsert("2025-01-01", "")))
	if err := l.Commit(ctx, "ZZ/1", ""); err != nil {
		t.Fatal(err)
	}
	a := adtOf(t, s)
	out := recordADT(t, a, adtItem("stm", "A1", domain.ADTAdmit, "91234567A", "", 0), adtItem("stm", "A2", domain.ADTDischarge, "91234567A", "", 1))
	pending, err := a.PendingADTNotices(ctx, 10)
	if err != nil || len(pending) != 2 || pending[0].ID != out[0].EventID {
		t.Fatalf("pending %+v %v", pending, err)
	}
	if p, _ := a.PendingADTNotices(ctx, 1); len(p) != 1 {
		t.Errorf("limit: %d", len(p))
	}
	written := adtT0.Add(25 * time.Hour)
	n := store.ADTNotice{EventID: out[0].EventID, ProviderNPI: "1234567893", ReceivedAt: pending[0].ReceivedAt, WrittenAt: written, File: "adt-notices.csv", Late: true}
	if err := a.RecordADTNotices(ctx, []int64{out[0].EventID}, []store.ADTNotice{n}); err != nil {
		t.Fatal(err)
	}
	if p, _ := a.PendingADTNotices(ctx, 10); len(p) != 1 || p[0].ID != out[1].EventID {
		t.Errorf("pending after: %+v", p)
	}
	got, err := a.ADTNotices(ctx, adtT0)
	if err != nil || len(got) != 1 || got[0] != n {
		t.Errorf("notices %+v, want %+v (%v)", got, n, err)
	}
	if got, _ := a.ADTNotices(ctx, written.Add(time.Millisecond)); len(got) != 0 {
		t.Errorf("notices since: %+v", got)
	}
}

// adtCancelsWithTheirEventsNotices: PendingADTNotices gives each cancel
// the providers (sorted) notified of the event it cancelled, that of its
// own sending system when another's cancel has the same MSH-10; none when
// the event was not notified or the cancel cancelled nothing. Other reads
// give none.
func adtCancelsWithTheirEventsNotices(t *testing.T, open func(string) store.LedgerStore) {
	a := adtWithMembers(t, open)
	const first, second = "91234567A", "98765432B"
	out := recordADT(t, a,
		adtFrom("county", "EPIC", "STMARYS", "M1", domain.ADTAdmit, first, "", 0),
		adtFrom("county", "EPIC", "MERCY", "M1", domain.ADTAdmit, first, "", 1),
		adtFrom("county", "EPIC", "STMARYS", "D1", domain.ADTDischarge, first, "", 2),
	)
	written := adtT0.Add(3 * time.Hour)
	notice := func(ev int64, npi string) store.ADTNotice {
		return store.ADTNotice{EventID: ev, ProviderNPI: npi, ReceivedAt: adtT0, WrittenAt: written, File: "adt-notices-" + npi + ".csv"}
	}
	if err := a.RecordADTNotices(ctx, []int64{out[0].EventID, out[1].EventID, out[2].EventID}, []store.ADTNotice{
		notice(out[0].EventID, "2222222222"), notice(out[0].EventID, "1111111111"), notice(out[1].EventID, "3333333333"),
	}); err != nil {
		t.Fatal(err)
	}
	cancels := recordADT(t, a,
		adtFrom("county", "EPIC", "STMARYS", "C1", domain.ADTCancelAdmit, first, "", 5),     // STMARYS's admit, notified to two
		adtFrom("county", "EPIC", "MERCY", "C1", domain.ADTCancelAdmit, first, "", 5),       // MERCY's admit, same MSH-10
		adtFrom("county", "EPIC", "STMARYS", "C2", domain.ADTCancelDischarge, first, "", 6), // a discharge notified to no one
		adtFrom("county", "EPIC", "STMARYS", "C3", domain.ADTCancelTransfer, first, "", 6),  // nothing to cancel
		adtFrom("county", "EPIC", "STMARYS", "A2", domain.ADTAdmit, second, "", 3),
		adtFrom("county", "EPIC", "STMARYS", "C4", domain.ADTCancelAdmit, second, "", 4), // an admit waiting too
	)
	if cancels[0].Cancelled != out[0].EventID || cancels[1].Cancelled != out[1].EventID || cancels[2].Cancelled != out[2].EventID ||
		cancels[3].Cancelled != 0 || cancels[5].Cancelled != cancels[4].EventID {
		t.Fatalf("cancels %+v", cancels)
	}
	pending, err := a.PendingADTNotices(ctx, 10)
	if err != nil || len(pending) != 6 {
		t.Fatalf("pending %+v %v", pending, err)
	}
	want := [][]string{{"1111111111", "2222222222"}, {"3333333333"}, nil, nil, nil, nil}
	for i, p := range pending {
		if p.ID != cancels[i].EventID || !equalStrings(p.CancelledNotified, want[i]) {
			t.Errorf("pending %d (%s %s): event %d notified %v, want event %d notified %v", i, p.Kind, p.ControlID, p.ID, p.CancelledNotified, cancels[i].EventID, want[i])
		}
	}
	if !pending[4].Cancelled {
		t.Errorf("the waiting admit is not cancelled: %+v", pending[4])
	}
	if p, err := a.PendingADTNotices(ctx, 1); err != nil || len(p) != 1 || !equalStrings(p[0].CancelledNotified, want[0]) {
		t.Errorf("limit 1: %+v %v", p, err)
	}
	evs, err := a.ADTEvents(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.CancelledNotified != nil {
			t.Errorf("ADTEvents: %s %s notified %v", ev.Kind, ev.ControlID, ev.CancelledNotified)
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// noticesRun begins an adt-notices run of s and records handled and
// notices in it; the caller ends the run.
func noticesRun(t *testing.T, s store.LedgerStore, a store.ADTStore, handled []int64, notices []store.ADTNotice) store.Run {
	t.Helper()
	run, err := s.BeginRun(ctx, "adt-notices", "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RecordADTNoticesRun(ctx, run, handled, notices); err != nil {
		t.Fatal(err)
	}
	return run
}

// memberEventsPending loads member 91234567A into s and records items,
// all of theirs; it returns the ADT store, the outcomes and the events
// waiting for a notice, one per item.
func memberEventsPending(t *testing.T, s store.LedgerStore, items ...store.ADTItem) (store.ADTStore, []store.ADTOutcome, []store.ADTEventRecord) {
	t.Helper()
	l := loadEnrollment(t, enrollmentOf(t, s), "m.834", member("91234567A", upsert("2025-01-01", "")))
	if err := l.Commit(ctx, "ZZ/1", ""); err != nil {
		t.Fatal(err)
	}
	a := adtOf(t, s)
	out := recordADT(t, a, items...)
	pending, err := a.PendingADTNotices(ctx, 10)
	if err != nil || len(pending) != len(items) {
		t.Fatalf("pending %d %v, want %d", len(pending), err, len(items))
	}
	return a, out, pending
}

// adtNoticesRunDelivered: a run records notices in its transaction (seen
// by nobody until it commits, gone when it is abandoned); an event handled
// twice is refused with nothing recorded; delivery marks each notice once
// and makes late the notices delivered 24 hours or more after their event
// was received.
func adtNoticesRunDelivered(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	a, out, pending := memberEventsPending(t, s, adtItem("stm", "R1", domain.ADTAdmit, "91234567A", "", 0), adtItem("stm", "R2", domain.ADTTransfer, "91234567A", "", 1),
		adtItem("stm", "R3", domain.ADTDischarge, "91234567A", "", 2))
	written := adtT0.Add(2 * time.Hour)
	notices := []store.ADTNotice{
		{EventID: out[0].EventID, ProviderNPI: "1234567893", ReceivedAt: pending[0].ReceivedAt, WrittenAt: written, File: "f1.csv"},
		{EventID: out[1].EventID, ProviderNPI: "1234567893", ReceivedAt: pending[1].ReceivedAt, WrittenAt: written, File: "f1.csv"},
	}
	handled := []int64{out[0].EventID, out[1].EventID}
	run := noticesRun(t, s, a, handled, notices)
	if err := run.Abandon(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if p, _ := a.PendingADTNotices(ctx, 10); len(p) != 3 {
		t.Fatalf("after an abandoned run: %d pending, want 3", len(p))
	}
	if n, _ := a.ADTNotices(ctx, adtT0); len(n) != 0 {
		t.Fatalf("after an abandoned run: %d notices, want 0", len(n))
	}
	run = noticesRun(t, s, a, handled, notices)
	if err := run.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if p, _ := a.PendingADTNotices(ctx, 10); len(p) != 1 || p[0].ID != out[2].EventID {
		t.Fatalf("after the run: pending %+v", p)
	}
	// R3 with R1 again: refused as a whole, R3 stays pending.
	err := a.RecordADTNotices(ctx, []int64{out[2].EventID, out[0].EventID}, nil)
	if !errors.Is(err, store.ErrADTNoticed) {
		t.Fatalf("handling R1 twice: %v, want ErrADTNoticed", err)
	}
	if p, _ := a.PendingADTNotices(ctx, 10); len(p) != 1 {
		t.Fatalf("a refused call recorded something: pending %d", len(p))
	}
	// Delivered 24 h 29 min after R1 was received (late) and 23 h 29 min
	// after R2 (on time).
	at := adtT0.Add(24*time.Hour + 30*time.Minute)
	marked, err := a.ADTNoticesDelivered(ctx, []string{"f1.csv", "other.csv"}, at, 24*time.Hour)
	if err != nil || len(marked) != 2 || marked[0].EventID != out[0].EventID || !marked[0].Late || marked[1].Late ||
		!marked[0].DeliveredAt.Equal(at) || !marked[0].ReceivedAt.Equal(pending[0].ReceivedAt) {
		t.Fatalf("delivered: %+v (%v), want R1 late and R2 on time, delivered at %v", marked, err, at)
	}
	if again, err := a.ADTNoticesDelivered(ctx, []string{"f1.csv"}, at.Add(time.Hour), 24*time.Hour); err != nil || len(again) != 0 {
		t.Fatalf("delivered again: %+v (%v), want none", again, err)
	}
	got, err := a.ADTNotices(ctx, adtT0)
	if err != nil || len(got) != 2 {
		t.Fatalf("notices %+v %v", got, err)
	}
	for i, wantLate := range []bool{true, false} {
		if got[i].Late != wantLate || !got[i].DeliveredAt.Equal(at) {
			t.Errorf("notice %d: late %v delivered %v, want %v and %v", i, got[i].Late, got[i].DeliveredAt, wantLate, at)
		}
	}
	total, lateN, err := a.CountADTNotices(ctx, adtT0, at, 24*time.Hour)
	if err != nil || total != 2 || lateN != 1 {
		t.Errorf("count: %d, %d late (%v), want 2, 1", total, lateN, err)
	}
	if total, _, _ := a.CountADTNotices(ctx, written.Add(time.Millisecond), at, 24*time.Hour); total != 0 {
		t.Errorf("count since after: %d", total)
	}
}

// adtLargeBatch: a batch of many messages (more than one multi-row
// statement of each kind) keeps the order of one message after another:
// duplicates within the batch, an A08 updating its visit's admit whether
// that admit was stored before it in the batch or is still waiting, a
// cancel of the batch's last admit, a merge of events recorded just before
// it, exceptions, and each stored event's ID.
func adtLargeBatch(t *testing.T, open func(string) store.LedgerStore) {
	a := adtWithMembers(t, open)
	var items []store.ADTItem
	want := map[int]string{} // item → its outcome, when not stored
	admitOf := map[string]int{}
	var updates []int
	for v := 0; v < 150; v++ {
		visit := "V" + strconv.Itoa(v)
		admitOf[visit] = len(items)
		items = append(items, adtItem("stm", "E"+strconv.Itoa(v), domain.ADTAdmit, "91234567A", visit, v))
		if v%3 == 0 && v > 0 { // the A08 of the visit three admits before: stored or waiting
			u := adtItem("stm", "U"+strconv.Itoa(v), domain.ADTUpdate, "91234567A", "V"+strconv.Itoa(v-3), v)
			u.Event.PatientClass, u.Event.Diagnoses, u.Event.AdmissionType = "O", nil, "C"
			updates = append(updates, len(items))
			items = append(items, u)
		}
		if v%40 == 7 {
			want[len(items)] = store.ADTDuplicate
			items = append(items, adtItem("stm", "E"+strconv.Itoa(v-7), domain.ADTAdmit, "91234567A", visit, v))
			want[len(items)] = store.ADTException
			items = append(items, adtItem("stm", "X"+strconv.Itoa(v), domain.ADTAdmit, "99999999Z", visit, v))
		}
	}
	for v := 0; v < 3; v++ {
		items = append(items, adtItem("stm", "B"+strconv.Itoa(v), domain.ADTRegister, "98765432B", "W"+strconv.Itoa(v), 200+v))
	}
	merge := len(items)
	items = append(items, adtItem("stm", "G1", domain.ADTMerge, "91234567A", "", 210))
	items[merge].Event.PriorCIN = "98765432B"
	late := len(items)
	items = append(items, adtItem("stm", "B9", domain.ADTRegister, "98765432B", "W9", 211))
	cancel := len(items)
	items = append(items, adtItem("stm", "C1", domain.ADTCancelAdmit, "91234567A", "V149", 212))
	out := recordADT(t, a, items...)
	ids := map[string]int64{}
	var last int64
	for i, o := range out {
		w := want[i]
		if w == "" {
			w = store.ADTStored
		}
		if o.Status != w {
			t.Fatalf("item %d (%s): %+v, want %s", i, items[i].ControlID, o, w)
		}
		if o.Status == store.ADTStored {
			if o.EventID <= last {
				t.Fatalf("item %d: event ID %d after %d", i, o.EventID, last)
			}
			last = o.EventID
			ids[items[i].ControlID] = o.EventID
		}
	}
	for _, u := range updates {
		if out[u].Updated != 1 {
			t.Errorf("%s updated %d events, want 1", items[u].ControlID, out[u].Updated)
		}
	}
	if out[merge].Merged != 3 {
		t.Errorf("merge moved %d events, want 3", out[merge].Merged)
	}
	if out[cancel].Cancelled != out[admitOf["V149"]].EventID {
		t.Errorf("cancel: %+v, want the admit of V149 (%d)", out[cancel], out[admitOf["V149"]].EventID)
	}
	evs, err := a.ADTEvents(ctx, "91234567A")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != len(ids) {
		t.Fatalf("%d events stored, want %d", len(evs), len(ids))
	}
	updated := map[string]bool{}
	for _, u := range updates {
		updated[items[u].Event.VisitNumber] = true
	}
	for _, ev := range evs {
		if ev.ID != ids[ev.ControlID] {
			t.Errorf("%s: ID %d, outcome said %d", ev.ControlID, ev.ID, ids[ev.ControlID])
		}
		if ev.Kind == domain.ADTAdmit {
			if wantClass := map[bool]string{true: "O", false: "I"}[updated[ev.VisitNumber]]; ev.PatientClass != wantClass || len(ev.Diagnoses) != 1 {
				t.Errorf("admit %s of %s: class %q, %d diagnoses; want %q, 1", ev.ControlID, ev.VisitNumber, ev.PatientClass, len(ev.Diagnoses), wantClass)
			}
			if wantType := map[bool]string{true: "C", false: "E"}[updated[ev.VisitNumber]]; ev.AdmissionType != wantType {
				t.Errorf("admit %s of %s: admission type %q, want %q", ev.ControlID, ev.VisitNumber, ev.AdmissionType, wantType)
			}
			if ev.Cancelled != (ev.VisitNumber == "V149") {
				t.Errorf("admit %s of %s: cancelled %v", ev.ControlID, ev.VisitNumber, ev.Cancelled)
			}
		}
	}
	if evs, _ := a.ADTEvents(ctx, "98765432B"); len(evs) != 0 || ids["B9"] == 0 || out[late].Status != store.ADTStored {
		t.Errorf("after the merge the prior CIN has %d events; B9 %+v", len(evs), out[late])
	}
	exc, err := a.ADTExceptions(ctx, time.Time{})
	if err != nil || len(exc) != 4 {
		t.Fatalf("exceptions %d %v", len(exc), err)
	}
	for i, x := range exc {
		if x.ControlID != "X"+strconv.Itoa(7+40*i) || x.Reason != store.ADTUnknownMember {
			t.Errorf("exception %d: %+v", i, x)
		}
	}
	// The batch again: every message a duplicate.
	for i, o := range recordADT(t, a, items...) {
		if o.Status != store.ADTDuplicate {
			t.Fatalf("again, item %d: %+v", i, o)
		}
	}
}

// adtOneBatch: cancels, merges and A08s in the same batch as the events
// they name act on those stored before the batch and those of the batch
// alike, and the batch's events get their ids in arrival order whatever
// their members, visits and event times.
func adtOneBatch(t *testing.T, open func(string) store.LedgerStore) {
	a := adtWithMembers(t, open)
	const (
		first  = "91234567A"
		second = "98765432B"
	)
	stored := recordADT(t, a,
		adtItem("stm", "A1", domain.ADTAdmit, first, "V1", 0),
		adtItem("stm", "A5", domain.ADTAdmit, first, "V5", 10),
		adtItem("stm", "B0", domain.ADTRegister, second, "W0", 1))
	updW1 := adtItem("stm", "UW1", domain.ADTUpdate, second, "W1", 16) // the prior CIN, read as the surviving one
	updW1.Event.PatientClass, updW1.Event.Diagnoses = "O", nil
	updW0 := adtItem("stm", "UW0", domain.ADTUpdate, first, "W0", 17)
	updW0.Event.PatientClass, updW0.Event.Diagnoses = "E", nil
	updV2 := adtItem("stm", "UV2", domain.ADTUpdate, first, "V2", 13)
	updV2.Event.PatientClass = "O"
	merge := adtItem("stm", "G1", domain.ADTMerge, first, "", 15)
	merge.Event.PriorCIN = second
	items := []store.ADTItem{
		adtItem("stm", "A2", domain.ADTAdmit, first, "V2", 5),
		adtItem("stm", "C1", domain.ADTCancelAdmit, first, "", 11), // the stored A5 (hour 10), later than the waiting A2 (hour 5)
		adtItem("stm", "A1", domain.ADTAdmit, first, "V1", 0),      // a duplicate of the stored A1
		adtItem("stm", "C2", domain.ADTCancelAdmit, first, "", 12), // the waiting A2, later than the stored A1
		updV2, // V2's admit is cancelled: nothing to update
		adtItem("stm", "B1", domain.ADTRegister, second, "W1", 14),
		merge, // moves the stored B0 and the waiting B1
		updW1,
		updW0,
		adtItem("stm", "C1", domain.ADTCancelAdmit, first, "", 18), // a duplicate within the batch
	}
	out := recordADT(t, a, items...)
	want := []string{store.ADTStored, store.ADTStored, store.ADTDuplicate, store.ADTStored, store.ADTStored, store.ADTStored, store.ADTStored,
		store.ADTStored, store.ADTStored, store.ADTDuplicate}
	if got := adtStatuses(out); !equalStrings(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if out[1].Cancelled != stored[1].EventID || out[3].Cancelled != out[0].EventID {
		t.Errorf("C1 cancelled %d, want the stored A5 %d; C2 cancelled %d, want the waiting A2 %d",
			out[1].Cancelled, stored[1].EventID, out[3].Cancelled, out[0].EventID)
	}
	if out[4].Updated != 0 || out[7].Updated != 1 || out[8].Updated != 1 {
		t.Errorf("A08s updated %d, %d, %d events; want 0 (cancelled), 1 (waiting, merged), 1 (stored, merged)", out[4].Updated, out[7].Updated, out[8].Updated)
	}
	if out[6].Merged != 2 {
		t.Errorf("merge moved %d events, want 2 (one stored, one waiting)", out[6].Merged)
	}
	// Ids in arrival order: the notice job sees the events oldest first.
	pending, err := a.PendingADTNotices(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	var last int64
	for _, ev := range pending {
		if ev.ID <= last {
			t.Errorf("pending %s: id %d after %d", ev.ControlID, ev.ID, last)
		}
		last = ev.ID
		order = append(order, ev.ControlID)
	}
	if wantOrder := []string{"A1", "A5", "B0", "A2", "C1", "C2", "UV2", "B1", "G1", "UW1", "UW0"}; !equalStrings(order, wantOrder) {
		t.Errorf("pending %v, want %v", order, wantOrder)
	}
	idOf := map[string]int64{}
	for _, ev := range pending {
		idOf[ev.ControlID] = ev.ID
	}
	for i, o := range out {
		if o.Status == store.ADTStored && o.EventID != idOf[items[i].ControlID] {
			t.Errorf("item %d (%s): event id %d, stored as %d", i, items[i].ControlID, o.EventID, idOf[items[i].ControlID])
		}
	}
	wantKinds := []string{"admit", "register", "admit (cancelled by C2)", "admit (cancelled by C1)", "cancel-admit", "cancel-admit", "update",
		"register", "merge", "update", "update"}
	if got := activeKinds(t, a, first); !equalStrings(got, wantKinds) {
		t.Errorf("events\n%v\nwant\n%v", got, wantKinds)
	}
	class := map[string]string{}
	evs, _ := a.ADTEvents(ctx, first)
	for _, ev := range evs {
		class[ev.ControlID] = ev.PatientClass
	}
	if class["B1"] != "O" || class["B0"] != "E" || class["A2"] != "I" {
		t.Errorf("classes %v: want B1 O (A08 on the waiting event), B0 E (on the stored one), A2 I (cancelled)", class)
	}
	if evs, _ := a.ADTEvents(ctx, second); len(evs) != 0 {
		t.Errorf("the prior CIN keeps %d events", len(evs))
	}
	// The next batch's ids follow; its A08s (no merge in the batch) update
	// the stored events of their visits, under the prior CIN too.
	again := func(id, cin, visit string, hour int) store.ADTItem {
		u := adtItem("stm", id, domain.ADTUpdate, cin, visit, hour)
		u.Event.PatientClass, u.Event.Diagnoses = "P", nil
		return u
	}
	out = recordADT(t, a, adtItem("stm", "A9", domain.ADTAdmit, second, "V9", 20),
		again("UV1", first, "V1", 21), again("UV7", first, "V7", 22), again("UW1b", second, "W1", 23), again("UV9", first, "V9", 24))
	if out[0].EventID != last+1 {
		t.Errorf("next event id %d, want %d", out[0].EventID, last+1)
	}
	if got := []int64{out[1].Updated, out[2].Updated, out[3].Updated, out[4].Updated}; [4]int64(got) != [4]int64{1, 0, 1, 1} {
		t.Errorf("A08s updated %v events, want [1 0 1 1]", got)
	}
}

// adtManySources: one batch whose events come from several senders,
// sources and receive times, alone or mixed in runs of the batch's
// multi-row statements, keeps each event's own sender, source, position
// and receive time; a batch from one source keeps them too.
func adtManySources(t *testing.T, open func(string) store.LedgerStore) {
	a := adtWithMembers(t, open)
	var items []store.ADTItem
	for i := range 300 {
		it := adtItem("s"+strconv.Itoa(i/150), "M"+strconv.Itoa(i), domain.ADTAdmit, "91234567A", "V"+strconv.Itoa(i), i%24)
		it.Source = "in" + strconv.Itoa(i/100) + ".hl7"
		it.Position = i + 1
		it.ReceivedAt = adtT0
		if i >= 40 {
			it.ReceivedAt = adtT0.Add(time.Hour)
		}
		items = append(items, it)
	}
	items = append(items, adtItem("s0", "M0", domain.ADTAdmit, "91234567A", "V0", 0)) // a duplicate of the first
	out := recordADT(t, a, items...)
	if out[len(items)-1].Status != store.ADTDuplicate {
		t.Fatalf("the repeated M0 of sender s0: %+v", out[len(items)-1])
	}
	evs, err := a.ADTEvents(ctx, "91234567A")
	if err != nil || len(evs) != 300 {
		t.Fatalf("%d events, %v; want 300", len(evs), err)
	}
	for _, ev := range evs {
		i, _ := strconv.Atoi(ev.ControlID[1:])
		it := items[i]
		if ev.ID != out[i].EventID || ev.Sender != it.Sender || ev.Source != it.Source || ev.Position != it.Position || !ev.ReceivedAt.Equal(it.ReceivedAt) {
			t.Errorf("%s: id %d sender %s source %s position %d received %v; want %d %s %s %d %v", ev.ControlID, ev.ID, ev.Sender, ev.Source, ev.Position, ev.ReceivedAt,
				out[i].EventID, it.Sender, it.Source, it.Position, it.ReceivedAt)
		}
	}
}

// adtFrom is adtItem from the sending system of profile, MSH-3.1 app and
// MSH-4.1 fac.
func adtFrom(profile, app, fac, id string, kind domain.ADTKind, cin, visit string, hour int) store.ADTItem {
	it := adtItem(profile, id, kind, cin, visit, hour)
	it.SendingApplication, it.SendingFacility = app, fac
	it.Event.SendingApplication, it.Event.SendingFacility = app, fac
	return it
}

// adtSendingSystems: a message is stored once per sending system (profile,
// MSH-3.1, MSH-4.1, read by domain.SendingID) and MSH-10: two facilities
// sharing a profile and an MSH-10 are both stored, a facility's repeat
// once, in the batch that first stores the key and in a later one. A
// cancel and an A08 change only their own sending system's events of the
// member, even when another's is the latest; a merge keeps its sending
// system.
func adtSendingSystems(t *testing.T, open func(string) store.LedgerStore) {
	a := adtWithMembers(t, open)
	const (
		first  = "91234567A"
		second = "98765432B"
	)
	updB := adtFrom("county", "EPIC", "MERCY", "U1", domain.ADTUpdate, first, "V1", 2)
	updB.Event.PatientClass, updB.Event.Diagnoses = "O", nil
	out := recordADT(t, a,
		adtFrom("county", "EPIC", "STMARYS", "M1", domain.ADTAdmit, first, "V1", 1),  // facility A, the later admit
		adtFrom("county", "EPIC", "MERCY", "M1", domain.ADTAdmit, first, "V1", 0),    // facility B: the same MSH-10 and visit number
		adtFrom("county", "EPIC", "STMARYS", "M1", domain.ADTAdmit, first, "V1", 1),  // A's repeat
		adtFrom("county", " EPIC", "MERCY\t", "M1", domain.ADTAdmit, first, "V1", 0), // B's repeat, padded
		adtFrom("county", "", "STMARYS", "M1", domain.ADTAdmit, second, "", 3),       // no MSH-3: another sending system
		adtFrom("county", "EPIC", "", "M1", domain.ADTAdmit, second, "", 4),          // no MSH-4: another one again
		adtFrom("county", "", "", "M1", domain.ADTAdmit, second, "", 5),              // neither
		adtFrom("county", "", "", "M1", domain.ADTAdmit, second, "", 5),              // neither, again
		updB, // B's visit V1: B's admit waiting in the batch, not A's
	)
	want := []string{store.ADTStored, store.ADTStored, store.ADTDuplicate, store.ADTDuplicate, store.ADTStored, store.ADTStored, store.ADTStored,
		store.ADTDuplicate, store.ADTStored}
	if got := adtStatuses(out); !equalStrings(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	if out[8].Updated != 1 {
		t.Errorf("B's A08 updated %d events, want 1 (B's admit, not A's)", out[8].Updated)
	}
	admitA, admitB := out[0].EventID, out[1].EventID
	updA := adtFrom("county", "EPIC", "STMARYS", "U2", domain.ADTUpdate, first, "V1", 6)
	updA.Event.PatientClass, updA.Event.Diagnoses = "P", nil
	out = recordADT(t, a,
		adtFrom("county", "EPIC", "STMARYS", "M1", domain.ADTAdmit, first, "V1", 1),    // A's repeat in a later batch
		adtFrom("county", "EPIC", "STJOSEPH", "M1", domain.ADTAdmit, second, "", 6),    // a third facility's M1
		adtFrom("other", "EPIC", "STMARYS", "C0", domain.ADTCancelAdmit, first, "", 7), // another profile's cancel
		updA, // A's stored admit, not B's
		adtFrom("county", "EPIC", "MERCY", "C1", domain.ADTCancelAdmit, first, "V1", 8), // B's cancel: B's admit, though A's is later
		adtFrom("county", "EPIC", "MERCY", "C2", domain.ADTCancelAdmit, first, "", 9),   // B has no admit left; A's stays
	)
	want = []string{store.ADTDuplicate, store.ADTStored, store.ADTStored, store.ADTStored, store.ADTStored, store.ADTStored}
	if got := adtStatuses(out); !equalStrings(got, want) {
		t.Fatalf("second batch: outcomes %v, want %v", got, want)
	}
	if out[2].Cancelled != 0 || out[4].Cancelled != admitB || out[5].Cancelled != 0 {
		t.Errorf("cancels: another profile's %d (want 0), B's %d (want B's admit %d), B's second %d (want 0; A's admit is %d)",
			out[2].Cancelled, out[4].Cancelled, admitB, out[5].Cancelled, admitA)
	}
	if out[3].Updated != 1 {
		t.Errorf("A's A08 updated %d events, want 1 (A's admit, not B's)", out[3].Updated)
	}
	evs, err := a.ADTEvents(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]store.ADTEventRecord{}
	for _, ev := range evs {
		byID[ev.ID] = ev
	}
	if ev := byID[admitA]; ev.Cancelled || ev.PatientClass != "P" || ev.SendingApplication != "EPIC" || ev.SendingFacility != "STMARYS" || ev.ControlID != "M1" {
		t.Errorf("A's admit: %+v; want active, class P (A's A08), EPIC/STMARYS", ev)
	}
	if ev := byID[admitB]; !ev.Cancelled || ev.CancelledBy != "C1" || ev.PatientClass != "O" || ev.SendingApplication != "EPIC" || ev.SendingFacility != "MERCY" {
		t.Errorf("B's admit: %+v; want cancelled by C1, class O (B's A08), EPIC/MERCY", ev)
	}
	// A merge from B keeps B's sending system, and moves every sending
	// system's events of the prior CIN.
	merge := adtFrom("county", "EPIC", "MERCY", "G1", domain.ADTMerge, first, "", 10)
	merge.Event.PriorCIN = second
	if o := recordADT(t, a, merge)[0]; o.Status != store.ADTStored || o.Merged != 4 {
		t.Errorf("merge %+v, want 4 events moved", o)
	}
	evs, _ = a.ADTEvents(ctx, first)
	systems := map[string]int{}
	for _, ev := range evs {
		systems[ev.Sender+"|"+ev.SendingApplication+"|"+ev.SendingFacility]++
		if ev.Kind == domain.ADTMerge && (ev.SendingApplication != "EPIC" || ev.SendingFacility != "MERCY" || ev.PriorCIN != second) {
			t.Errorf("merge event %+v", ev)
		}
	}
	wantSystems := map[string]int{"county|EPIC|STMARYS": 2, "county|EPIC|MERCY": 5, "county||STMARYS": 1, "county|EPIC|": 1, "county||": 1,
		"county|EPIC|STJOSEPH": 1, "other|EPIC|STMARYS": 1}
	if len(systems) != len(wantSystems) {
		t.Errorf("events by sending system %v, want %v", systems, wantSystems)
	}
	for k, n := range wantSystems {
		if systems[k] != n {
			t.Errorf("events by sending system %v, want %v", systems, wantSystems)
			break
		}
	}
}

// adtNoticesRunUndone: a run's notices are found by its ID, and undoing the
// run deletes its notices not delivered and puts their events back among
// those waiting, leaving other runs' notices, calgw notices' and the
// delivered ones as they were.
func adtNoticesRunUndone(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	a, out, pending := memberEventsPending(t, s, adtItem("stm", "U1", domain.ADTAdmit, "91234567A", "", 0), adtItem("stm", "U2", domain.ADTTransfer, "91234567A", "", 1),
		adtItem("stm", "U3", domain.ADTDischarge, "91234567A", "", 2), adtItem("stm", "U4", domain.ADTRegister, "91234567A", "", 3),
		adtItem("stm", "U5", domain.ADTPreadmit, "91234567A", "", 4))
	written := adtT0.Add(time.Hour)
	notice := func(i int, npi, file string) store.ADTNotice {
		return store.ADTNotice{EventID: out[i].EventID, ProviderNPI: npi, ReceivedAt: pending[i].ReceivedAt, WrittenAt: written, File: file}
	}
	commit := func(handled []int64, notices ...store.ADTNotice) int64 {
		t.Helper()
		run := noticesRun(t, s, a, handled, notices)
		if err := run.Written(ctx, "", ""); err != nil {
			t.Fatal(err)
		}
		return run.ID()
	}
	// Run 1: U1 to two providers, U2 to one, U3 handled without a notice.
	run1 := commit([]int64{out[0].EventID, out[1].EventID, out[2].EventID},
		notice(0, "1234567893", "r1-b.csv"), notice(0, "1111111111", "r1-a.csv"), notice(1, "1234567893", "r1-b.csv"))
	// Run 2: U4, delivered.
	run2 := commit([]int64{out[3].EventID}, notice(3, "1234567893", "r2.csv"))
	if _, err := a.ADTNoticesDelivered(ctx, []string{"r2.csv"}, written.Add(time.Minute), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	// calgw notices: U5.
	if err := a.RecordADTNotices(ctx, []int64{out[4].EventID}, []store.ADTNotice{notice(4, "1234567893", "cli.csv")}); err != nil {
		t.Fatal(err)
	}
	if files, err := a.ADTNoticeRunFiles(ctx, run1); err != nil || !slices.Equal(files, []string{"r1-a.csv", "r1-b.csv"}) {
		t.Fatalf("files of run 1: %q (%v), want r1-a.csv and r1-b.csv", files, err)
	}
	runs := map[string]int64{}
	all, _ := a.ADTNotices(ctx, adtT0)
	for _, n := range all {
		runs[n.File] = n.RunID
	}
	if runs["r1-a.csv"] != run1 || runs["r2.csv"] != run2 || runs["cli.csv"] != 0 {
		t.Fatalf("notices' runs %v, want r1 %d, r2 %d, cli 0", runs, run1, run2)
	}
	if p, _ := a.PendingADTNotices(ctx, 10); len(p) != 0 {
		t.Fatalf("before the undo: %d pending", len(p))
	}

	n, err := a.UndoADTNoticesRun(ctx, run1)
	if err != nil || n != 3 {
		t.Fatalf("undo run 1: %d notices deleted (%v), want 3", n, err)
	}
	// U1 and U2 wait again; U3 had no notice and stays handled.
	if p, _ := a.PendingADTNotices(ctx, 10); len(p) != 2 || p[0].ID != out[0].EventID || p[1].ID != out[1].EventID {
		t.Fatalf("after the undo: pending %+v, want U1 and U2", p)
	}
	if files, err := a.ADTNoticeRunFiles(ctx, run1); err != nil || len(files) != 0 {
		t.Fatalf("files of run 1 after the undo: %q (%v)", files, err)
	}
	left, _ := a.ADTNotices(ctx, adtT0)
	if len(left) != 2 || left[0].File != "r2.csv" || left[1].File != "cli.csv" {
		t.Fatalf("after the undo the notices are %+v, want r2.csv's and cli.csv's", left)
	}
	// A delivered notice is never undone, and undoing again changes nothing.
	if n, err := a.UndoADTNoticesRun(ctx, run2); err != nil || n != 0 {
		t.Fatalf("undo of a delivered run: %d (%v), want 0", n, err)
	}
	if n, err := a.UndoADTNoticesRun(ctx, run1); err != nil || n != 0 {
		t.Fatalf("undo again: %d (%v), want 0", n, err)
	}
	if p, _ := a.PendingADTNotices(ctx, 10); len(p) != 2 {
		t.Fatalf("after undoing a delivered run: %d pending, want 2", len(p))
	}
	// The events undone are recorded again by the next run.
	run3 := commit([]int64{out[0].EventID, out[1].EventID}, notice(0, "1234567893", "r3.csv"), notice(1, "1234567893", "r3.csv"))
	if files, _ := a.ADTNoticeRunFiles(ctx, run3); !slices.Equal(files, []string{"r3.csv"}) {
		t.Errorf("files of run 3: %q", files)
	}
}

// adtNoticesUndeliveredLate: CountADTNotices counts as late a notice a
// daemon run recorded on time and has not delivered once within has
// passed since its event was received, and still after its late delivery;
// a notice of calgw notices (no run) only when written late.
func adtNoticesUndeliveredLate(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	a, out, pending := memberEventsPending(t, s, adtItem("stm", "L1", domain.ADTAdmit, "91234567A", "", 0), adtItem("stm", "L2", domain.ADTTransfer, "91234567A", "", 1),
		adtItem("stm", "L3", domain.ADTDischarge, "91234567A", "", 2))
	written := pending[1].ReceivedAt.Add(time.Hour)
	notice := func(i int, file string) store.ADTNotice {
		return store.ADTNotice{EventID: out[i].EventID, ProviderNPI: "1234567893", ReceivedAt: pending[i].ReceivedAt, WrittenAt: written, File: file}
	}
	// L1 and L2 by the daemon, in two files; L3 by calgw notices.
	run := noticesRun(t, s, a, []int64{out[0].EventID, out[1].EventID}, []store.ADTNotice{notice(0, "d1.csv"), notice(1, "d2.csv")})
	if err := run.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.RecordADTNotices(ctx, []int64{out[2].EventID}, []store.ADTNotice{notice(2, "cli.csv")}); err != nil {
		t.Fatal(err)
	}
	count := func(at time.Time) int64 {
		t.Helper()
		total, late, err := a.CountADTNotices(ctx, time.Time{}, at, 24*time.Hour)
		if err != nil || total != 3 {
			t.Fatalf("count at %v: %d (%v), want 3", at, total, err)
		}
		return late
	}
	due1 := pending[0].ReceivedAt.Add(24 * time.Hour)
	due2 := pending[1].ReceivedAt.Add(24 * time.Hour)
	if !due1.Before(due2) || !pending[2].ReceivedAt.Add(24*time.Hour).After(due1) {
		t.Fatalf("received %v %v %v: want L1 before L2 before L3", pending[0].ReceivedAt, pending[1].ReceivedAt, pending[2].ReceivedAt)
	}
	for _, tc := range []struct {
		at   time.Time
		late int64
	}{{due1.Add(-time.Millisecond), 0}, {due1, 1}, {due2, 2}, {due2.Add(30 * 24 * time.Hour), 2}} {
		if got := count(tc.at); got != tc.late {
			t.Errorf("at %v: %d late, want %d", tc.at, got, tc.late)
		}
	}
	// d2.csv delivered on time: no longer counted; d1.csv delivered late:
	// still counted.
	if _, err := a.ADTNoticesDelivered(ctx, []string{"d2.csv"}, due2.Add(-time.Minute), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ADTNoticesDelivered(ctx, []string{"d1.csv"}, due2.Add(-time.Minute), 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := count(due2.Add(30 * 24 * time.Hour)); got != 1 {
		t.Errorf("after the deliveries: %d late, want 1 (L1)", got)
	}
}
