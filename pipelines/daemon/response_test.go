package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// The 277ca processor stores the DHCS Encounter ID of a claim sent, writes
// the reconciliation report as its report output, and quarantines a file
// that is not a 277.
func TestResponseProcessorStoresEncounterIDs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, err := st.BeginRun(ctx, "convert", "{}")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordClaims(ctx, run, []store.SentClaim{{CLM01: "3051C1", Invoice: "INV-1", HCP: "305"}}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	p, err := newResponseProcessor(ingest.Kind277CA, ingest.Load277CA)(Env{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	resp := filepath.Join(dir, "PLAN_305_837P_MCE_20261123_00001_RESP_277.dat")
	os.WriteFile(resp, []byte(strings.Join([]string{
		"ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*951234567305   *261124*0830*^*00501*000000901*0*P*:",
		"GS*HN*CALIFORNIA-DHCS*951234567305*20261124*0830*901*X*005010X214", "ST*277*0001*005010X214",
		"HL*1**20*1", "HL*2*1*21*1", "HL*3*2*19*1", "HL*4*3*PT", "TRN*2*3051C1", "STC*F1:20*20261124*WQ", "REF*1K*202611240000001",
		"SE*9*0001", "GE*1*901", "IEA*1*000000901"}, "~")+"~"), 0o644)
	out := t.TempDir()
	res, err := p.Process(ctx, &Job{Input: resp, Name: filepath.Base(resp), OutDir: out, File: &store.FileEntry{ID: 7}})
	if err != nil || !strings.Contains(res.Note, "1 matched") {
		t.Fatalf("process: %+v %v", res, err)
	}
	if len(res.Outputs) != 1 || res.Outputs[0].Role != RoleReport || res.Outputs[0].Name != "PLAN_305_837P_MCE_20261123_00001_RESP_277.7.report.csv" {
		t.Fatalf("outputs %+v", res.Outputs)
	}
	if b, err := os.ReadFile(res.Outputs[0].Path); err != nil || !strings.Contains(string(b), "3051C1") {
		t.Errorf("report: %q %v", b, err)
	}
	if c, _, _ := st.SentClaim(ctx, "3051C1", ""); c.EncounterID != "202611240000001" {
		t.Errorf("claim %+v", c)
	}
	bad := filepath.Join(dir, "not277.dat")
	os.WriteFile(bad, []byte("hello"), 0o644)
	if _, err := p.Process(ctx, &Job{Input: bad, Name: "not277.dat", OutDir: out, File: &store.FileEntry{ID: 8}}); !errors.Is(err, ErrUnusable) {
		t.Errorf("a file that is not a 277: %v, want ErrUnusable", err)
	}
}

// Routes of kind 999 and evr load DHCS's answers into the encounters sent
// and deliver the reconciliation report; every answer kind has a
// processor.
func TestResponseKinds(t *testing.T) {
	ctx := context.Background()
	for _, k := range []string{"999", "277ca", "evr"} {
		reg, ok := processors[k]
		if !ok || len(reg.Roles) != 1 || reg.Roles[0].Name != RoleReport {
			t.Errorf("kind %s: %+v", k, reg)
		}
	}
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, err := st.BeginRun(ctx, "convert", "{}")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordClaims(ctx, run, []store.SentClaim{{CLM01: "3057C3", Invoice: "INV-3", HCP: "305", File: "PLAN_305_837P_MCE_20261123_00001.dat",
		Sender: "951234567305", GroupSender: "951234567", ISA13: 7, GS06: 7, ST02: 2, Sent: "2026-11-23"}}); err != nil {
		t.Fatal(err)
	}
	if err := run.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	// Accepted and Rejected count the answers (matched or not), so the
	// metrics' line counter never moves backwards: here the EVR rejects
	// more encounters (one of them not ours) than it matches.
	m := newMetrics(st)
	for i, tc := range []struct {
		kind, file, note   string
		accepted, rejected int
	}{
		{"999", "PLAN_305_837P_MCE_20261123_00001.999", "999: 2 answer(s), 1 matched to encounters sent, 1 rejected, 1 warning(s)", 1, 1},
		{"evr", "PLAN_305_837P_MCE_20261123_00001_EVR.xml", "evr: 3 answer(s), 1 matched to encounters sent, 2 rejected, 2 warning(s)", 1, 2},
	} {
		p, err := processors[tc.kind].New(Env{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		in := filepath.Join("../../testdata/dhcs", tc.file)
		res, err := p.Process(ctx, &Job{Input: in, Name: tc.file, OutDir: t.TempDir(), File: &store.FileEntry{ID: int64(i + 1)}})
		if err != nil || res.Note != tc.note || len(res.Outputs) != 1 {
			t.Fatalf("%s: %+v %v", tc.kind, res, err)
		}
		if res.Accepted != tc.accepted || res.Rejected != tc.rejected {
			t.Errorf("%s: %d accepted, %d rejected; want %d, %d", tc.kind, res.Accepted, res.Rejected, tc.accepted, tc.rejected)
		}
		m.lines(res)
	}
	subs, _ := st.Encounters(ctx, store.EncounterRejected, "")
	if len(subs) != 1 || subs[0].Code != "EVR Rejected" {
		t.Errorf("rejected %+v", subs)
	}
}
