package storetest

import (
	"testing"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// sentClaims: claims recorded by a written run are found by CLM01 or
// invoice number, take the DHCS Encounter ID of a response, keep their
// first record when a replacement reuses the CLM01, and vanish with an
// abandoned run.
func sentClaims(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	cs, ok := s.(store.ClaimStore)
	if !ok {
		t.Fatalf("%T is not a store.ClaimStore", s)
	}
	run := begin(t, s)
	if err := cs.RecordClaims(ctx, run, []store.SentClaim{{CLM01: "3051C1", Invoice: "INV-1", HCP: "305"}, {CLM01: "3061C2", Invoice: "INV-2", HCP: "306"}}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "t", "o.837"); err != nil {
		t.Fatal(err)
	}
	c, found, err := cs.SentClaim(ctx, "INV-1")
	if err != nil || !found || c.CLM01 != "3051C1" || c.HCP != "305" || c.Run != run.ID() || c.EncounterID != "" {
		t.Fatalf("by invoice: %+v %v %v", c, found, err)
	}
	n, err := cs.SetEncounterIDs(ctx, []store.EncounterResponse{{CLM01: "3051C1", EncounterID: "123456789012345", Status: "F1:20"}, {CLM01: "NOT-SENT", EncounterID: "1"}})
	if err != nil || n != 1 {
		t.Fatalf("set encounter IDs: %d %v", n, err)
	}
	if c, found, _ = cs.SentClaim(ctx, "3051C1"); !found || c.EncounterID != "123456789012345" || c.Status != "F1:20" {
		t.Errorf("by CLM01 after the response: %+v %v", c, found)
	}
	// A later response with a status only keeps the ID.
	if _, err := cs.SetEncounterIDs(ctx, []store.EncounterResponse{{CLM01: "3051C1", Status: "F2:54"}}); err != nil {
		t.Fatal(err)
	}
	if c, _, _ = cs.SentClaim(ctx, "3051C1"); c.EncounterID != "123456789012345" || c.Status != "F2:54" {
		t.Errorf("after a status-only response: %+v", c)
	}
	// A replacement reusing the CLM01 keeps the first record.
	run2 := begin(t, s)
	if err := cs.RecordClaims(ctx, run2, []store.SentClaim{{CLM01: "3051C1", Invoice: "INV-1R", HCP: "305"}, {CLM01: "3051C9", Invoice: "INV-9", HCP: "305"}}); err != nil {
		t.Fatal(err)
	}
	if err := run2.Abandon(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if c, _, _ = cs.SentClaim(ctx, "3051C1"); c.Run != run.ID() || c.Invoice != "INV-1" {
		t.Errorf("replacement changed the first record: %+v", c)
	}
	if _, found, _ := cs.SentClaim(ctx, "INV-9"); found {
		t.Error("a claim of an abandoned run is found")
	}
}
