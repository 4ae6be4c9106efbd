package storetest

import (
	"testing"

	"github.com/calaim-gateway/calaim-gateway/store"
)

func claimStores(t *testing.T, s store.LedgerStore) (store.ClaimStore, store.EncounterStore) {
	t.Helper()
	cs, ok := s.(store.ClaimStore)
	if !ok {
		t.Fatalf("%T is not a store.ClaimStore", s)
	}
	es, ok := s.(store.EncounterStore)
	if !ok {
		t.Fatalf("%T is not a store.EncounterStore", s)
	}
	return cs, es
}

// sentClaims: claims recorded by a written run are found by CLM01 or
// invoice number, take the DHCS Encounter ID of a response, keep their
// first record when a replacement reuses the CLM01, and vanish with an
// abandoned run.
func sentClaims(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	cs, es := claimStores(t, s)
	run := begin(t, s)
	if err := cs.RecordClaims(ctx, run, []store.SentClaim{{CLM01: "3051C1", Invoice: "INV-1", HCP: "305", BillingNPI: "1234567893"}, {CLM01: "3061C2", Invoice: "INV-2", HCP: "306", BillingNPI: "1234567893"}}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "t", "o.837"); err != nil {
		t.Fatal(err)
	}
	c, found, err := cs.SentClaim(ctx, "INV-1", "1234567893")
	if err != nil || found != 1 || c.CLM01 != "3051C1" || c.HCP != "305" || c.Run != run.ID() || c.EncounterID != "" || c.BillingNPI != "1234567893" {
		t.Fatalf("by invoice: %+v %v %v", c, found, err)
	}
	got, err := es.AnswerClaims(ctx, "r.dat", []store.ClaimAnswer{
		{CLM01: "3051C1", EncounterID: "123456789012345", Status: store.EncounterAccepted, Code: "F1:20"},
		{CLM01: "NOT-SENT", EncounterID: "1", Status: store.EncounterAccepted}})
	if err != nil || got[0].ID == 0 || got[1].ID != 0 {
		t.Fatalf("answer claims: %+v %v", got, err)
	}
	if c, found, _ = cs.SentClaim(ctx, "3051C1", ""); found != 1 || c.EncounterID != "123456789012345" || c.Status != "F1:20" {
		t.Errorf("by CLM01 after the response: %+v %v", c, found)
	}
	// A later answer without an ID keeps the ID.
	if _, err := es.AnswerClaims(ctx, "r2.dat", []store.ClaimAnswer{{CLM01: "3051C1", Status: store.EncounterRejected, Code: "F2:54"}}); err != nil {
		t.Fatal(err)
	}
	if c, _, _ = cs.SentClaim(ctx, "3051C1", ""); c.EncounterID != "123456789012345" || c.Status != "F2:54" {
		t.Errorf("after an answer without an ID: %+v", c)
	}
	// A replacement reusing the CLM01 keeps the first record.
	run2 := begin(t, s)
	if err := cs.RecordClaims(ctx, run2, []store.SentClaim{{CLM01: "3051C1", Invoice: "INV-1R", HCP: "305", Frequency: "7"}, {CLM01: "3051C9", Invoice: "INV-9", HCP: "305"}}); err != nil {
		t.Fatal(err)
	}
	if err := run2.Abandon(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if c, _, _ = cs.SentClaim(ctx, "3051C1", ""); c.Run != run.ID() || c.Invoice != "INV-1" {
		t.Errorf("replacement changed the first record: %+v", c)
	}
	if _, found, _ := cs.SentClaim(ctx, "INV-9", ""); found != 0 {
		t.Error("a claim of an abandoned run is found")
	}
	if subs, _ := es.Encounters(ctx, "", ""); len(subs) != 2 {
		t.Errorf("an abandoned run's submissions are listed: %+v", subs)
	}
}

// sentClaimsOfProviders: a reference names the claims of its own billing
// provider (invoice numbers are unique only within one provider); an
// invoice that became several claims in its latest run is ambiguous; a
// claim recorded without a billing NPI (before the store kept it) matches
// any provider.
func sentClaimsOfProviders(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	cs, _ := claimStores(t, s)
	const bay, golden = "1234567893", "1245319599"
	record := func(claims ...store.SentClaim) int64 {
		run := begin(t, s)
		if err := cs.RecordClaims(ctx, run, claims); err != nil {
			t.Fatal(err)
		}
		if err := run.Written(ctx, "t", "o.837"); err != nil {
			t.Fatal(err)
		}
		return run.ID()
	}
	r1 := record(store.SentClaim{CLM01: "938C1", Invoice: "SAME-1", HCP: "938", BillingNPI: bay},
		store.SentClaim{CLM01: "938C2", Invoice: "TWO-1", HCP: "938", BillingNPI: bay},
		store.SentClaim{CLM01: "938C3", Invoice: "TWO-1", HCP: "938", BillingNPI: bay},
		store.SentClaim{CLM01: "938C4", Invoice: "OLD-1", HCP: "938"})
	r2 := record(store.SentClaim{CLM01: "919C1", Invoice: "SAME-1", HCP: "919", BillingNPI: golden})
	for _, tt := range []struct {
		ref, npi string
		clm01    string
		run      int64
		claims   int
	}{
		{"SAME-1", bay, "938C1", r1, 1},
		{"SAME-1", golden, "919C1", r2, 1},
		{"SAME-1", "", "919C1", r2, 1}, // any provider: the latest
		{"919C1", bay, "", 0, 0},       // another provider's CLM01
		{"919C1", golden, "919C1", r2, 1},
		{"TWO-1", bay, "938C2", r1, 2},
		{"938C3", bay, "938C3", r1, 1},
		{"TWO-1", golden, "", 0, 0},
		{"OLD-1", golden, "938C4", r1, 1},
		{"938C4", bay, "938C4", r1, 1},
	} {
		c, n, err := cs.SentClaim(ctx, tt.ref, tt.npi)
		if err != nil || n != tt.claims || c.CLM01 != tt.clm01 || c.Run != tt.run {
			t.Errorf("SentClaim(%s, %q) = %s run %d, %d claims (%v); want %s run %d, %d claims", tt.ref, tt.npi, c.CLM01, c.Run, n, err, tt.clm01, tt.run, tt.claims)
		}
	}
}

// encounterAnswers: 999 answers reach the claims of their transaction set
// (by GS06, ST02 and our sender IDs), 277CA/EVR answers the claim of the
// file they name, else the CLM01's submission still waiting; a
// replacement is a submission of its own; Encounters lists each CLM01's
// latest submission by status and month sent.
func encounterAnswers(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	cs, es := claimStores(t, s)
	env := func(c store.SentClaim, file string, isa, gs, st int64, sent string) store.SentClaim {
		c.File, c.Sender, c.GroupSender, c.ISA13, c.GS06, c.ST02, c.Sent = file, "951234567305", "951234567", isa, gs, st, sent
		return c
	}
	run := begin(t, s)
	if err := cs.RecordClaims(ctx, run, []store.SentClaim{
		env(store.SentClaim{CLM01: "305C1", Invoice: "INV-1", HCP: "305"}, "A.dat", 11, 21, 1, "2026-10-30"),
		env(store.SentClaim{CLM01: "305C2", Invoice: "INV-2", HCP: "305"}, "A.dat", 11, 21, 1, "2026-10-30"),
		env(store.SentClaim{CLM01: "305C3", Invoice: "INV-3", HCP: "305"}, "A.dat", 11, 21, 2, "2026-10-30"),
	}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "t", "A.dat"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteRun(ctx, run.ID(), "ok"); err != nil {
		t.Fatal(err)
	}
	// 999: set 1 accepted, set 2 rejected, a set nobody sent, and set 1
	// again addressed to another sender (no match).
	n, err := es.AnswerSets(ctx, "A.999", []store.SetAnswer{
		{Receivers: []string{"951234567305", "951234567"}, GS06: 21, ST02: 1, Ack: "A", Status: store.EncounterSent},
		{Receivers: []string{"951234567305", "951234567"}, GS06: 21, ST02: 2, Ack: "R", Status: store.EncounterRejected, Reason: "IK3 CLM 12: required segment missing"},
		{Receivers: []string{"951234567305", "951234567"}, GS06: 99, ST02: 1, Ack: "R", Status: store.EncounterRejected},
		{Receivers: []string{"OTHER", "OTHER"}, GS06: 21, ST02: 1, Ack: "R", Status: store.EncounterRejected},
	})
	if err != nil || len(n) != 4 || n[0] != 2 || n[1] != 1 || n[2] != 0 || n[3] != 0 {
		t.Fatalf("999 answers matched %v (%v), want [2 1 0 0]", n, err)
	}
	byCLM := func(status string) map[string]store.Submission {
		subs, err := es.Encounters(ctx, status, "")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]store.Submission{}
		for _, x := range subs {
			m[x.CLM01] = x
		}
		return m
	}
	if r := byCLM(store.EncounterRejected); len(r) != 1 || r["305C3"].Code != "999 IK5 R" || r["305C3"].Reason == "" || r["305C3"].AnsweredBy != "A.999" {
		t.Fatalf("rejected after the 999: %+v", r)
	}
	if w := byCLM(store.EncounterSent); len(w) != 2 || w["305C1"].Ack != "A" {
		t.Fatalf("waiting after the 999: %+v", w)
	}
	// 277CA of A.dat: C1 accepted, C2 denied as a duplicate.
	got, err := es.AnswerClaims(ctx, "A_RESP_277.dat", []store.ClaimAnswer{
		{File: "A.dat", CLM01: "305C1", Status: store.EncounterAccepted, Code: "F1:20", EncounterID: "100000000000001"},
		{File: "A.dat", CLM01: "305C2", Status: store.EncounterRejected, Code: "F2:54", Reason: "duplicate", EncounterID: "100000000000002"},
	})
	if err != nil || got[0].ID == 0 || got[1].ID == 0 || got[1].Status != store.EncounterRejected || got[1].File != "A.dat" {
		t.Fatalf("277CA answers: %+v %v", got, err)
	}
	// A replacement of C2 in a November file: C2's latest submission waits.
	run2 := begin(t, s)
	if err := cs.RecordClaims(ctx, run2, []store.SentClaim{
		env(store.SentClaim{CLM01: "305C2", Invoice: "INV-2", HCP: "305", Frequency: "7"}, "B.dat", 12, 22, 1, "2026-11-02"),
	}); err != nil {
		t.Fatal(err)
	}
	if err := run2.Written(ctx, "t", "B.dat"); err != nil {
		t.Fatal(err)
	}
	if r := byCLM(store.EncounterRejected); len(r) != 1 || r["305C3"].ID == 0 {
		t.Fatalf("rejected after the replacement: %+v", r)
	}
	if w := byCLM(store.EncounterSent); w["305C2"].Frequency != "7" || w["305C2"].File != "B.dat" {
		t.Fatalf("the replacement waits: %+v", w)
	}
	// An answer naming no file goes to the submission still waiting (the
	// replacement), and the CLM01 takes its new Encounter ID.
	got, err = es.AnswerClaims(ctx, "B_RESP_277.dat", []store.ClaimAnswer{{CLM01: "305C2", Status: store.EncounterAccepted, Code: "F1:20", EncounterID: "100000000000009"}})
	if err != nil || got[0].Frequency != "7" {
		t.Fatalf("answer to the replacement: %+v %v", got, err)
	}
	if c, _, _ := cs.SentClaim(ctx, "305C2", ""); c.EncounterID != "100000000000009" {
		t.Errorf("the CLM01's Encounter ID after the replacement's answer: %+v", c)
	}
	// The first submission keeps its own answer, whether the answer names
	// the file with its extension or by its stem (as a 277CA's name and
	// the EVR's EncounterFileName do).
	for _, file := range []string{"A.dat", "A"} {
		got, _ = es.AnswerClaims(ctx, "A_RESP_277.dat", []store.ClaimAnswer{{File: file, CLM01: "305C2", Status: store.EncounterRejected, Code: "F2:54", EncounterID: "100000000000002"}})
		if got[0].Frequency != "1" || got[0].File != "A.dat" {
			t.Errorf("an answer to file %q went to %+v", file, got[0])
		}
	}
	// A late answer to the first submission leaves the CLM01 with the
	// replacement's Encounter ID and status: the next correction cites it.
	if c, _, _ := cs.SentClaim(ctx, "305C2", ""); c.EncounterID != "100000000000009" || c.Status != "F1:20" {
		t.Errorf("the CLM01 after a late answer to its first submission: Encounter ID %s, status %s; want the replacement's 100000000000009, F1:20", c.EncounterID, c.Status)
	}
	if a := byCLM(store.EncounterAccepted); len(a) != 2 || a["305C2"].EncounterID != "100000000000009" {
		t.Errorf("accepted (latest per CLM01): %+v", a)
	}
	// By month sent.
	for month, want := range map[string]int{"2026-10": 2, "2026-11": 1, "2026-12": 0, "": 3} {
		if subs, _ := es.Encounters(ctx, "", month); len(subs) != want {
			t.Errorf("month %q: %d encounter(s), want %d", month, len(subs), want)
		}
	}
	// A group answered by AK9 alone (ST02 0) reaches every set of the group.
	if n, err := es.AnswerSets(ctx, "A2.999", []store.SetAnswer{{Receivers: []string{"951234567305", "951234567"}, GS06: 21, Ack: "R", Status: store.EncounterRejected}}); err != nil || n[0] != 3 {
		t.Errorf("group answer matched %v (%v), want 3 submissions", n, err)
	}
	// A CLM01 that is not UTF-8 (bytes of a damaged or hostile answer)
	// matches nothing we sent; a file name that is not UTF-8 names none of
	// our files, so the CLM01 alone is matched; the other answers of the
	// call still land.
	got, err = es.AnswerClaims(ctx, "X_RESP_277.dat", []store.ClaimAnswer{
		{File: "A.dat", CLM01: "305C\xff1", Status: store.EncounterRejected, Code: "F2:54"},
		{File: "A\xff.dat", CLM01: "305C1", Status: store.EncounterRejected, Code: "F2:54"},
		{File: "A.dat", CLM01: "305C1", Status: store.EncounterAccepted, Code: "F1:20", EncounterID: "100000000000001"},
	})
	if err != nil || got[0].ID != 0 || got[1].ID == 0 || got[1].File != "A.dat" || got[2].ID == 0 {
		t.Errorf("answers not UTF-8: %+v %v; want the first unmatched", got, err)
	}
}

// sentClaimLatestFrequency: SentClaim reads back the CLM05-3 and status
// of the CLM01's latest submission (an original, then its void), which
// tell an encounter DHCS voided from one still to correct.
func sentClaimLatestFrequency(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	cs, es := claimStores(t, s)
	send := func(c store.SentClaim, file string, gs int64) {
		t.Helper()
		run := begin(t, s)
		c.File, c.Sender, c.GroupSender, c.ISA13, c.GS06, c.ST02, c.Sent = file, "951234567305", "951234567", gs, gs, 1, "2026-11-02"
		if err := cs.RecordClaims(ctx, run, []store.SentClaim{c}); err != nil {
			t.Fatal(err)
		}
		if err := run.Written(ctx, "t", file); err != nil {
			t.Fatal(err)
		}
	}
	latest := func(stage, freq, status string) {
		t.Helper()
		c, n, err := cs.SentClaim(ctx, "305C1", "")
		if err != nil || n != 1 || c.LatestFrequency != freq || c.Latest != status {
			t.Errorf("%s: latest submission CLM05-3 %q, status %q (%d claims, %v); want %q, %q", stage, c.LatestFrequency, c.Latest, n, err, freq, status)
		}
	}
	send(store.SentClaim{CLM01: "305C1", Invoice: "INV-1", HCP: "305"}, "A.dat", 21)
	latest("original sent", "1", store.EncounterSent)
	if _, err := es.AnswerClaims(ctx, "A_RESP_277.dat", []store.ClaimAnswer{{File: "A.dat", CLM01: "305C1", Status: store.EncounterAccepted, Code: "F1:20", EncounterID: "100000000000001"}}); err != nil {
		t.Fatal(err)
	}
	latest("original accepted", "1", store.EncounterAccepted)
	send(store.SentClaim{CLM01: "305C1", Invoice: "INV-1", HCP: "305", Frequency: "8"}, "B.dat", 22)
	latest("void sent", "8", store.EncounterSent)
	if _, err := es.AnswerClaims(ctx, "B_RESP_277.dat", []store.ClaimAnswer{{File: "B.dat", CLM01: "305C1", Status: store.EncounterAccepted, Code: "F1:20", EncounterID: "100000000000002"}}); err != nil {
		t.Fatal(err)
	}
	latest("void accepted", "8", store.EncounterAccepted)
}

// encounterSetAnswersByFile: an answer naming our file (an EVR rejecting
// a transaction or the whole file without listing its encounters) rejects
// the claims of that set, or of every set of the file for GS06 0, with its
// own code, and leaves the 999 acknowledgment alone.
func encounterSetAnswersByFile(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	cs, es := claimStores(t, s)
	run := begin(t, s)
	sent := func(clm, file string, gs, st int64) store.SentClaim {
		return store.SentClaim{CLM01: clm, Invoice: "INV-" + clm, HCP: "305", File: file, Sender: "951234567305", GroupSender: "951234567", ISA13: gs, GS06: gs, ST02: st, Sent: "2026-11-02"}
	}
	if err := cs.RecordClaims(ctx, run, []store.SentClaim{
		sent("305C1", "A.dat", 21, 1), sent("305C2", "A.dat", 21, 2), sent("305C3", "A.dat", 21, 2),
		sent("305C4", "B.dat", 22, 1), sent("305C5", "B.dat", 22, 2),
	}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "t", "A.dat"); err != nil {
		t.Fatal(err)
	}
	if _, err := es.AnswerSets(ctx, "A.999", []store.SetAnswer{{Receivers: []string{"951234567305", "951234567"}, GS06: 21, ST02: 1, Ack: "A", Status: store.EncounterSent}}); err != nil {
		t.Fatal(err)
	}
	n, err := es.AnswerSets(ctx, "A_EVR.xml", []store.SetAnswer{
		{File: "A", GS06: 21, ST02: 2, Status: store.EncounterRejected, Code: "EVR Transaction Rejected", Reason: "transaction 2 rejected"},
		{File: "B.dat", Status: store.EncounterRejected, Code: "EVR ValidationStatus Rejected"},
		{File: "A", GS06: 21, ST02: 9, Status: store.EncounterRejected, Code: "EVR Transaction Rejected"},
		{File: "C", Status: store.EncounterRejected, Code: "EVR ValidationStatus Rejected"},
		{File: "A\xff", Status: store.EncounterRejected, Code: "EVR ValidationStatus Rejected"},
	})
	if err != nil || len(n) != 5 || n[0] != 2 || n[1] != 2 || n[2] != 0 || n[3] != 0 || n[4] != 0 {
		t.Fatalf("answers by file matched %v (%v), want [2 2 0 0 0]", n, err)
	}
	subs, err := es.Encounters(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"305C1": "sent  A", "305C2": "rejected EVR Transaction Rejected ", "305C3": "rejected EVR Transaction Rejected ",
		"305C4": "rejected EVR ValidationStatus Rejected ", "305C5": "rejected EVR ValidationStatus Rejected "}
	for _, x := range subs {
		if got := x.Status + " " + x.Code + " " + x.Ack; got != want[x.CLM01] || x.Status == store.EncounterRejected && x.AnsweredBy != "A_EVR.xml" {
			t.Errorf("%s: %q answered by %s, want %q", x.CLM01, got, x.AnsweredBy, want[x.CLM01])
		}
	}
	if len(subs) != len(want) {
		t.Errorf("%d submissions, want %d", len(subs), len(want))
	}
}

// encounterAnswersByStem: an answer that names our file by its stem finds
// it when the name holds characters of more than one byte too.
func encounterAnswersByStem(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	cs, es := claimStores(t, s)
	run := begin(t, s)
	if err := cs.RecordClaims(ctx, run, []store.SentClaim{
		{CLM01: "305C1", Invoice: "INV-1", HCP: "305", File: "Año-1.dat", Sender: "951234567305", GroupSender: "951234567", ISA13: 11, GS06: 21, ST02: 1, Sent: "2026-10-30"},
		{CLM01: "305C1", Invoice: "INV-1", HCP: "305", Frequency: "7", File: "Año-2.dat", Sender: "951234567305", GroupSender: "951234567", ISA13: 12, GS06: 22, ST02: 1, Sent: "2026-11-02"},
	}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "t", "Año-2.dat"); err != nil {
		t.Fatal(err)
	}
	got, err := es.AnswerClaims(ctx, "Año-1_RESP_277.dat", []store.ClaimAnswer{{File: "Año-1", CLM01: "305C1", Status: store.EncounterRejected, Code: "F2:54"}})
	if err != nil || got[0].File != "Año-1.dat" {
		t.Errorf("an answer to file Año-1 went to %+v (%v), want the submission in Año-1.dat", got, err)
	}
}
