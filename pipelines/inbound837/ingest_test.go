package inbound837

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// TestIngestWritesAcknowledgmentsAndReport: `calgw ingest --kind 837p` on
// a file with one bad claim writes its 999 (accepted), its 277CA (one
// claim accepted, one rejected), no TA1 (clean envelope) and the report.
func TestIngestWritesAcknowledgmentsAndReport(t *testing.T) {
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "provider-claims.x12")
	data := strings.Replace(twoClaims(t), "CLM*ENC1001*300*", "CLM*ENC1001*301*", 1)
	if err := os.WriteFile(in, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	rs := Ingest(context.Background(), ingest.Job{Files: []string{in}, OutDir: out, Store: st, Config: cfg,
		Now: func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) }})
	if len(rs) != 1 || rs[0].Err != nil || !rs[0].Committed || rs[0].Read != 2 || rs[0].Rejected != 1 {
		t.Fatalf("results %+v", rs)
	}
	read := func(suffix string) string {
		b, err := os.ReadFile(filepath.Join(out, "provider-claims"+suffix))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if a := read(Suffix999); !strings.Contains(a, "IK5*A~AK9*A*1*1*1~") {
		t.Errorf("999:\n%s", a)
	}
	if a := read(Suffix277CA); !strings.Contains(a, "TRN*2*ENC1001~STC*A7:178") || !strings.Contains(a, "TRN*2*ENC1002~STC*A2:20:PR") {
		t.Errorf("277CA:\n%s", a)
	}
	if _, err := os.Stat(filepath.Join(out, "provider-claims"+SuffixTA1)); !os.IsNotExist(err) {
		t.Errorf("TA1 written for a clean envelope: %v", err)
	}
	if r := read(SuffixReportCSV); !strings.Contains(r, "ENC1001,rejected,SNIP3-CLM02-SV102") {
		t.Errorf("report:\n%s", r)
	}
	if r := read(SuffixReportHTML); !strings.Contains(r, "1 claim(s) accepted, 1 rejected") {
		t.Errorf("report:\n%s", r)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

// The claim spool gives back the claims as added, with the pending lines
// of the accepted ones, and fails on a spool cut short.
func TestClaimSpoolRoundTrip(t *testing.T) {
	s, err := newClaimSpool()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	line := func(k byte, inv, no string, pending bool) EncounterLine {
		l := EncounterLine{Number: no, Pending: pending}
		l.Sent = store.Line{Key: [16]byte{k, 15: k}, Invoice: inv, LineNo: no}
		return l
	}
	if err := s.add("000000001000001", "ZZ:A", "000000001", "CLM-1", true,
		[]EncounterLine{line(1, "000000001000001", "1", true), line(2, "000000001000001", "2", false), line(3, "000000001000001", "3", true)}); err != nil {
		t.Fatal(err)
	}
	if err := s.add("000000001000002", "ZZ:A", "000000001", "", false, []EncounterLine{line(4, "000000001000002", "1", true)}); err != nil {
		t.Fatal(err)
	}
	if err := s.add("000000002000001", "ZZ:B", "000000002", "CLM \u00e9\"3", true, nil); err != nil {
		t.Fatal(err)
	}
	seq, errp := s.all("in.x12")
	var got []store.InboundClaim
	for c := range seq {
		got = append(got, c)
	}
	if *errp != nil {
		t.Fatal(*errp)
	}
	want := []store.InboundClaim{
		{PlanClaim: "000000001000001", Sender: "ZZ:A", ISA13: "000000001", ProviderClaim: "CLM-1", File: "in.x12", Accepted: true,
			Lines: []store.Line{line(1, "000000001000001", "1", true).Sent, line(3, "000000001000001", "3", true).Sent}},
		{PlanClaim: "000000001000002", Sender: "ZZ:A", ISA13: "000000001", File: "in.x12"},
		{PlanClaim: "000000002000001", Sender: "ZZ:B", ISA13: "000000002", ProviderClaim: "CLM \u00e9\"3", File: "in.x12", Accepted: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("spooled claims\n got %+v\nwant %+v", got, want)
	}
	// Cut short: the last claim's record loses its accepted byte.
	if err := s.w.Flush(); err != nil {
		t.Fatal(err)
	}
	st, _ := s.f.Stat()
	if err := s.f.Truncate(st.Size() - 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.f.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	seq, errp = s.all("in.x12")
	n := 0
	for range seq {
		n++
	}
	if *errp == nil || n != 2 {
		t.Fatalf("a spool cut short: %d claims, error %v", n, *errp)
	}
}
