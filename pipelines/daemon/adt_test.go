package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// The adt processor records a dropped file's events once, reports its
// unknown member by message and line, and quarantines a file with no
// message.
func TestADTProcessorRecordsEvents(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.OpenSQLite(ctx, filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l, _ := st.BeginEnrollmentLoad(ctx, store.LoadKind834, "m.834", [32]byte{1})
	l.PutMember(ctx, &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: "91234567A"}, County: "34"},
		Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: domain.EligibilitySpan{From: civil.Date(20250101), PlanCode: "306", County: "34"}}}})
	if err := l.Commit(ctx, "1", ""); err != nil {
		t.Fatal(err)
	}
	p, err := newADTProcessor(Env{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(id, cin string) string {
		return "MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301083000||ADT^A01|" + id + "|P|2.5.1\nEVN|A01|20260301082500\nPID|1||" + cin + "^^^CAMEDI^MA\nPV1|1|I\n"
	}
	in := filepath.Join(dir, "stmarys-0301.hl7")
	os.WriteFile(in, []byte(msg("D1", "91234567A")+msg("D2", "99999999Z")), 0o644)
	for round := 0; round < 2; round++ {
		out := t.TempDir()
		res, err := p.Process(ctx, &Job{Input: in, Name: "stmarys-0301.hl7", OutDir: out, File: &store.FileEntry{ID: 7}, Config: config.Default()})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Outputs) != 1 || res.Outputs[0].Name != "stmarys-0301.7.adt-report.csv" {
			t.Fatalf("outputs %+v", res.Outputs)
		}
		b, _ := os.ReadFile(res.Outputs[0].Path)
		if round == 0 && (res.Accepted != 1 || res.Rejected != 1 || !strings.Contains(string(b), "stmarys-0301.hl7,2,5,D2,"+store.ADTUnknownMember)) {
			t.Errorf("first: %+v\n%s", res, b)
		}
		if round == 1 && (res.Accepted != 2 || res.Rejected != 0 || !strings.Contains(res.Note, "stored=0 duplicates=2")) {
			t.Errorf("again: %+v", res)
		}
	}
	if evs, _ := st.ADTEvents(ctx, "91234567A"); len(evs) != 1 {
		t.Errorf("events %+v", evs)
	}
	bad := filepath.Join(dir, "empty.hl7")
	os.WriteFile(bad, []byte("hello\n"), 0o644)
	if _, err := p.Process(ctx, &Job{Input: bad, Name: "empty.hl7", OutDir: t.TempDir(), File: &store.FileEntry{ID: 8}, Config: config.Default()}); !errors.Is(err, ErrUnusable) {
		t.Errorf("no message: %v, want ErrUnusable", err)
	}
}
