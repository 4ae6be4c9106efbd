package inbound837

import (
	"context"
	"os"
	"path/filepath"
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
