package x277ca

import (
	"os"
	"strings"
	"testing"
)

// The claim level (HL*…*PT) gives CLM01, status and Encounter ID; the
// batch-level TRN*2 of the receiver level is not a claim.
func TestReadClaimLevel(t *testing.T) {
	f, err := os.Open("../../../testdata/x12/277ca-clean.x12")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	claims, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	want := []Claim{{CLM01: "ENC1001", Status: "A2:20", EncounterID: "2026011600001"}, {CLM01: "ENC1002", Status: "A2:20", EncounterID: "2026011600002"}}
	if len(claims) != len(want) {
		t.Fatalf("claims %+v", claims)
	}
	for i, w := range want {
		c := claims[i]
		if c.CLM01 != w.CLM01 || c.Status != w.Status || c.EncounterID != w.EncounterID {
			t.Errorf("claim %d = %+v, want %+v", i, c, w)
		}
	}
}

// DHCS's denial (F2:54, a duplicate) is not accepted; F1:20 is.
func TestDHCSStatuses(t *testing.T) {
	in := strings.Join([]string{
		"ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*951234567305   *210520*0830*^*00501*000000901*0*P*:",
		"GS*HN*CALIFORNIA-DHCS*951234567305*20210520*0830*901*X*005010X214",
		"ST*277*0001*005010X214",
		"HL*1**20*1", "HL*2*1*21*1", "TRN*2*BATCH-1", "STC*F1:20*20210520*WQ",
		"HL*3*2*19*1", "HL*4*3*PT", "TRN*2*3051C1", "STC*F1:20*20210520*WQ", "REF*1K*123456789012345",
		"HL*5*3*PT", "TRN*2*3051C2", "STC*F2:54*20210520*U*0", "REF*1K*123456789012346",
		"SE*16*0001", "GE*1*901", "IEA*1*000000901",
	}, "~") + "~"
	claims, err := Read(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 2 || !claims[0].Accepted() || claims[1].Accepted() || claims[1].Status != "F2:54" || claims[1].EncounterID != "123456789012346" {
		t.Errorf("claims %+v", claims)
	}
}

// DHCS's 277CA as observed (B4 [P]): the batch counts of the information
// receiver level, and per claim the category, status, entity and the
// 15-digit Encounter ID.
func TestReadDHCSResponse(t *testing.T) {
	f, err := os.Open("../../../testdata/dhcs/PLAN_305_837P_MCE_20261123_00001_RESP_277.dat")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ReadResponse(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.Sender != "CALIFORNIA-DHCS" || r.Receiver != "951234567305" {
		t.Errorf("envelope %q → %q", r.Sender, r.Receiver)
	}
	if len(r.Batches) != 1 || r.Batches[0].Accepted != 1 || r.Batches[0].Rejected != 2 || r.Batches[0].Claims != 3 || r.Batches[0].TRN == "" {
		t.Errorf("batches %+v", r.Batches)
	}
	want := []struct{ clm, cat, stc, id string }{
		{"3057C1", "F1", "F1:20", "202611240000001"},
		{"3057C2", "F2", "F2:54", "202611240000002"},
		{"3057C3", "F2", "F2:97:QC", "202611240000003"},
	}
	if len(r.Claims) != len(want) {
		t.Fatalf("claims %+v", r.Claims)
	}
	for i, w := range want {
		c := r.Claims[i]
		if c.CLM01 != w.clm || c.Category() != w.cat || c.STC01() != w.stc || c.EncounterID != w.id || c.Accepted() != (w.cat == "F1") {
			t.Errorf("claim %d = %+v (STC01 %s), want %+v", i, c, c.STC01(), w)
		}
	}
}

// A 277CA without QTY*90/QTY*AA reports the counts as absent (-1); a QTY
// that is not a count (not a number, or negative) is an error naming the
// segment.
func TestBatchCountsAbsentOrBad(t *testing.T) {
	base := []string{
		"ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*951234567305   *210520*0830*^*00501*000000901*0*P*:",
		"GS*HN*CALIFORNIA-DHCS*951234567305*20210520*0830*901*X*005010X214", "ST*277*0001*005010X214",
		"HL*1**20*1", "HL*2*1*21*1", "TRN*2*B",
	}
	tail := []string{"SE*5*0001", "GE*1*901", "IEA*1*000000901"}
	r, err := ReadResponse(strings.NewReader(strings.Join(append(base[:6:6], tail...), "~") + "~"))
	if err != nil || len(r.Batches) != 1 || r.Batches[0].Accepted != -1 || r.Batches[0].Rejected != -1 {
		t.Fatalf("no QTY: %+v %v", r, err)
	}
	for _, qty := range []string{"QTY*90*many", "QTY*90*-1", "QTY*AA*-3"} {
		_, err = ReadResponse(strings.NewReader(strings.Join(append(append(base[:6:6], qty), tail...), "~") + "~"))
		if err == nil || !strings.Contains(err.Error(), "QTY02") {
			t.Errorf("%s: %v", qty, err)
		}
	}
}

// Each claim names the batch (2200B) of its own 277 it is under: the
// batch whose QTY*90/QTY*AA count it.
func TestClaimBatch(t *testing.T) {
	set := func(st, clm string) string {
		return strings.Join([]string{"ST*277*" + st + "*005010X214", "HL*1**20*1", "HL*2*1*21*1", "TRN*2*BATCH-" + st, "QTY*90*1",
			"HL*3*2*19*1", "HL*4*3*PT", "TRN*2*" + clm, "STC*F1:20*20210520*WQ", "SE*10*" + st}, "~")
	}
	in := "ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*951234567305   *210520*0830*^*00501*000000901*0*P*:~" +
		"GS*HN*CALIFORNIA-DHCS*951234567305*20210520*0830*901*X*005010X214~" +
		set("0001", "3051C1") + "~" +
		"ST*277*0009*005010X214~HL*1**20*1~HL*4*1*PT~TRN*2*3051C0~STC*F1:20*20210520*WQ~SE*6*0009~" +
		set("0002", "3051C2") + "~GE*3*901~IEA*1*000000901~"
	r, err := ReadResponse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Batches) != 2 || len(r.Claims) != 3 {
		t.Fatalf("batches %+v, claims %+v", r.Batches, r.Claims)
	}
	// The claim of the 277 without a batch level is under none.
	for i, want := range []int{0, -1, 1} {
		if r.Claims[i].Batch != want {
			t.Errorf("claim %s under batch %d, want %d", r.Claims[i].CLM01, r.Claims[i].Batch, want)
		}
	}
}
