package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// responseKinds are the loaders FuzzLoadResponses drives, by kind.
var responseKinds = []struct {
	kind string
	load ResponseLoader
	// names are the input's names: one naming our file, one naming none.
	names [2]string
}{
	{Kind999, Load999, [2]string{"PLAN_305_837P_MCE_20261123_00001.999", "OTHER.999"}},
	{Kind277CA, Load277CA, [2]string{"PLAN_305_837P_MCE_20261123_00001_RESP_277.dat", "OTHER_RESP_277.dat"}},
	{KindEVR, LoadEVR, [2]string{"PLAN_305_837P_MCE_20261123_00001_EVR.xml", "OTHER_EVR.xml"}},
}

// FuzzLoadResponses loads any bytes as a 999, a 277CA or an EVR (by kind),
// under a name that names our file or none, into a store that sent the
// claims testdata/dhcs answers (each CLM01 once), and
// checks that the load does not panic; that an unusable input is an
// ErrUnusable naming the file and a position (or what is missing) and
// leaves no report; that a load without an error has a report of one row
// per answer and per warning, each with every column, and counts that
// add up (Loaded and the answers that matched nothing make Read); that
// every submission's status is sent, accepted or rejected; and that loading
// the same file again changes nothing: the same result and the same
// submissions.
func FuzzLoadResponses(f *testing.F) {
	for i, k := range responseKinds {
		b, err := os.ReadFile(dhcsData + k.names[0])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(i))
		f.Add(b, uint8(i+3))
		f.Add(b[:len(b)*2/3], uint8(i))
	}
	for i, name := range []string{"../../testdata/x12/999-x231.x12", "../../testdata/x12/277ca-clean.x12"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(i))
	}
	b, err := os.ReadFile(dhcsData + "PLAN_305_837P_MCE_20261123_00001_RESP_277.dat")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Replace(b, []byte("QTY*90*1~"), []byte("QTY*90*5~"), 1), uint8(1))
	f.Add(bytes.Replace(b, []byte("TRN*2*3057C2~"), []byte("TRN*2*3057C1~"), 1), uint8(4))
	b, err = os.ReadFile(dhcsData + "PLAN_305_837P_MCE_20261123_00001.999")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Replace(b, []byte("AK1*HC*7*005010X222A1~"), []byte("AK1*PW*7*004050X109~"), 1), uint8(0))
	f.Add(bytes.Replace(b, []byte("AK2*837*0002*005010X222A1~"), []byte("AK2*837*0001*005010X222A1~"), 1), uint8(0))

	b, err = os.ReadFile(dhcsData + "PLAN_305_837P_MCE_20261123_00001_EVR.xml")
	if err != nil {
		f.Fatal(err)
	}
	// A transaction and a whole file rejected without their encounters.
	noEncounters := bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("<Encounter Status="), []byte("<Other Status=")), []byte("</Encounter>"), []byte("</Other>"))
	f.Add(noEncounters, uint8(2))
	noTransactions := bytes.ReplaceAll(bytes.ReplaceAll(noEncounters, []byte("<Transaction Status="), []byte("<Other Status=")), []byte("</Transaction>"), []byte("</Other>"))
	f.Add(bytes.Replace(noTransactions, []byte(">Accepted</ValidationStatus>"), []byte(">Rejected</ValidationStatus>"), 1), uint8(2))

	st := sentStore(f, true)
	ctx := context.Background()
	in := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		k := responseKinds[int(which)%len(responseKinds)]
		path := filepath.Join(in, k.names[int(which)/len(responseKinds)%2])
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		load := func() (Result, []store.Submission, [][]string) {
			out := t.TempDir()
			r := k.load(ctx, st, path, out, slog.New(slog.DiscardHandler))
			subs, err := st.Encounters(ctx, "", "")
			if err != nil {
				t.Fatal(err)
			}
			reports, _ := filepath.Glob(filepath.Join(out, "*"))
			if r.Err != nil {
				if len(reports) > 0 || r.Report != "" {
					t.Fatalf("%s: error %v, and a report %q %v", k.kind, r.Err, r.Report, reports)
				}
				return r, subs, nil
			}
			if len(reports) != 1 || reports[0] != r.Report {
				t.Fatalf("%s: report %q, files %v", k.kind, r.Report, reports)
			}
			b, err := os.ReadFile(r.Report)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
			if err != nil {
				t.Fatalf("%s: report: %v", k.kind, err)
			}
			return r, subs, rows
		}
		r, subs, rows := load()
		for _, s := range subs {
			if s.Status != store.EncounterSent && s.Status != store.EncounterAccepted && s.Status != store.EncounterRejected {
				t.Fatalf("%s: submission %d has status %q", k.kind, s.ID, s.Status)
			}
		}
		if r.Err != nil {
			if errors.Is(r.Err, ErrUnusable) {
				msg := r.Err.Error()
				if !strings.Contains(msg, path) || !strings.Contains(msg, "line ") && !strings.Contains(msg, "no 999 transaction set") &&
					!strings.Contains(msg, "no 277 transaction set") && !strings.Contains(msg, "root element") && !strings.Contains(msg, "no EncounterValidationResponse") {
					t.Fatalf("%s: unusable, but the error names no file and position: %v", k.kind, r.Err)
				}
			}
		} else {
			unmatched := r.Read - r.Loaded
			if r.Loaded < 0 || unmatched < 0 || r.Rejected > r.Read || unmatched > r.Warnings || !r.Committed {
				t.Fatalf("%s: counts that do not add up: %+v", k.kind, r)
			}
			if len(rows) == 0 || !reflect.DeepEqual(rows[0], responseHeader) || len(rows)-1 != r.Read+r.Warnings-unmatched {
				t.Fatalf("%s: %d report rows for %+v", k.kind, len(rows), r)
			}
			for _, row := range rows[1:] {
				if len(row) != len(responseHeader) || row[0] != filepath.Base(path) {
					t.Fatalf("%s: report row %q", k.kind, row)
				}
			}
		}
		r2, subs2, rows2 := load()
		if fmt.Sprint(r.Err) != fmt.Sprint(r2.Err) || r.Read != r2.Read || r.Loaded != r2.Loaded || r.Rejected != r2.Rejected || r.Warnings != r2.Warnings ||
			!reflect.DeepEqual(rows, rows2) {
			t.Fatalf("%s: loaded again: %+v\n%q\nfirst: %+v\n%q", k.kind, r2, rows2, r, rows)
		}
		if !reflect.DeepEqual(subs, subs2) {
			t.Fatalf("%s: loaded again, the submissions changed:\n%+v\nfirst:\n%+v", k.kind, subs2, subs)
		}
	})
}
