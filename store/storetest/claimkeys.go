package storetest

import (
	"testing"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// correctionKeys: a correction's lines count as sent once it is sent,
// beside its original's; the original's keys the replacement no longer
// has are released when DHCS accepts it, a rejected correction releases
// the keys only it added, an accepted void releases the claim's keys
// (not a key another claim's line holds), an answer that changes moves
// the keys with it, and an aborted run gives back the keys its
// correction recorded.
func correctionKeys(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	cs, es := claimStores(t, s)
	oldDay, newDay, same := Key(61, 1), Key(62, 2), Key(63, 3)
	line := func(key [16]byte, control, lineNo string) store.Line {
		return store.Line{Key: key, Control: control, Invoice: "INV-1", LineNo: lineNo}
	}
	// send records claim c (with lines recorded as an original's, when
	// it is one) in file; abort aborts the run once written.
	send := func(c store.SentClaim, file string, gs int64, abort bool) int64 {
		t.Helper()
		run := begin(t, s)
		if c.Frequency == "" && !c.Correction {
			record(t, run, c.Lines...)
		}
		c.Invoice, c.HCP, c.File, c.Sender, c.GroupSender, c.ISA13, c.GS06, c.ST02, c.Sent = "INV-1", "305", file, "951234567305", "951234567", gs, gs, 1, "2026-11-02"
		if err := cs.RecordClaims(ctx, run, []store.SentClaim{c}); err != nil {
			t.Fatal(err)
		}
		if err := run.Written(ctx, "t", file); err != nil {
			t.Fatal(err)
		}
		if abort {
			if err := s.AbortRun(ctx, run.ID(), "output lost"); err != nil {
				t.Fatal(err)
			}
		} else if err := s.CompleteRun(ctx, run.ID(), "ok"); err != nil {
			t.Fatal(err)
		}
		return run.ID()
	}
	answer := func(file, status, id string) {
		t.Helper()
		if _, err := es.AnswerClaims(ctx, file+".277", []store.ClaimAnswer{{File: file, CLM01: "305C1", Status: status, EncounterID: id}}); err != nil {
			t.Fatal(err)
		}
	}
	// sentAs checks, with a check run, which line each key is sent as
	// ("" none).
	sentAs := func(stage string, want map[[16]byte]string) {
		t.Helper()
		check, err := s.BeginCheck(ctx, "check", "{}")
		if err != nil {
			t.Fatal(err)
		}
		defer check.Abandon(ctx, "check")
		for k, control := range want {
			p := record(t, check, store.Line{Key: k, Control: "check", Invoice: "NEW", LineNo: "1"})[0]
			got := ""
			if p != nil {
				got = p.Control
			}
			if got != control {
				t.Errorf("%s: key %d sent as %q, want %q", stage, k[0], got, control)
			}
		}
	}

	send(store.SentClaim{CLM01: "305C1", Lines: []store.Line{line(oldDay, "1-1", "1"), line(same, "1-2", "2")}}, "A.dat", 1, false)
	answer("A.dat", store.EncounterAccepted, "100000000000001")
	replacement := store.SentClaim{CLM01: "305C1", Frequency: "7", Correction: true, Lines: []store.Line{line(newDay, "R-1", "1"), line(same, "R-2", "2")}}
	send(replacement, "B.dat", 2, true)
	sentAs("replacement aborted", map[[16]byte]string{oldDay: "1-1", newDay: "", same: "1-2"})

	r := replacement
	r.Lines = []store.Line{line(newDay, "3-1", "1"), line(same, "3-2", "2")}
	send(r, "C.dat", 3, false)
	sentAs("replacement waiting", map[[16]byte]string{oldDay: "1-1", newDay: "3-1", same: "1-2"})
	answer("C.dat", store.EncounterRejected, "")
	sentAs("replacement rejected", map[[16]byte]string{oldDay: "1-1", newDay: "", same: "1-2"})

	r.Lines = []store.Line{line(newDay, "4-1", "1"), line(same, "4-2", "2")}
	send(r, "D.dat", 4, false)
	answer("D.dat", store.EncounterAccepted, "100000000000004")
	sentAs("replacement accepted", map[[16]byte]string{oldDay: "", newDay: "4-1", same: "1-2"})

	// A new original for the old day takes its key.
	send(store.SentClaim{CLM01: "305C5", Lines: []store.Line{line(oldDay, "5-1", "1")}}, "E.dat", 5, false)
	send(store.SentClaim{CLM01: "305C1", Frequency: "8", Correction: true, Lines: []store.Line{line(newDay, "6-1", "1"), line(same, "6-2", "2")}}, "F.dat", 6, false)
	sentAs("void waiting", map[[16]byte]string{oldDay: "5-1", newDay: "4-1", same: "1-2"})
	answer("F.dat", store.EncounterAccepted, "100000000000006")
	sentAs("void accepted", map[[16]byte]string{oldDay: "5-1", newDay: "", same: ""})

	// An EVR rejecting the void's file after its 277CA: the replacement stands.
	if _, err := es.AnswerSets(ctx, "F.xml", []store.SetAnswer{{File: "F.dat", Status: store.EncounterRejected, Code: "EVR ValidationStatus Rejected"}}); err != nil {
		t.Fatal(err)
	}
	sentAs("void rejected after all", map[[16]byte]string{oldDay: "5-1", newDay: "4-1", same: "4-2"})
}
