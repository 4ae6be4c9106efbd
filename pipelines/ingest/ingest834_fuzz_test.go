package ingest

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// FuzzIngest834 loads any bytes as an 834 (`calgw ingest --kind 834`) into
// a new store and checks that the load does not panic and that nothing is
// lost or invented:
//   - an input it cannot use is an ErrUnusable naming the file; a failed
//     load commits nothing and leaves neither report nor 999;
//   - otherwise every member read is loaded or rejected (Loaded + Rejected
//     = Read), the load is committed when it loaded a member, and not when
//     it read members and loaded none, the store holds no more members than were loaded, and the
//     report has a row of every column for each problem, its members'
//     numbers among those read, with at least one member rejected for each
//     member named;
//   - a 999 is written only when the guide found something, and it passes
//     our 005010X231A1 validator when the input's envelopes are sound (the
//     999 repeats their control numbers and delimiters, as FuzzEdit's
//     answers do).
func FuzzIngest834(f *testing.F) {
	for _, p := range []string{"bad-members.834", "broken-envelope.834", "family-change.834", "full-audit.834", "other-delimiters.834"} {
		b, err := os.ReadFile(testdata + p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	b, err := os.ReadFile(testdata + "family-change.834")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Replace(b, []byte("IEA*1*"), []byte("IEA*2*"), 1))
	f.Add(b[:len(b)/2])
	f.Add([]byte("ISA*00*garbage"))

	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		e := newEnv(t)
		path := filepath.Join(t.TempDir(), "in.834")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r := e.ingest834(path)
		status, err := e.st.EnrollmentStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		outs, _ := os.ReadDir(e.out)
		if r.Err != nil {
			if errors.Is(r.Err, ErrUnusable) && !strings.Contains(r.Err.Error(), "in.834") {
				t.Fatalf("unusable, but the error names no file: %v", r.Err)
			}
			if !r.Committed && (status.Loads834 != 0 || status.Members != 0 || len(outs) != 0) {
				t.Fatalf("failed (%v), and left %d load(s), %d member(s), %d file(s)", r.Err, status.Loads834, status.Members, len(outs))
			}
			return
		}
		if r.Read < 0 || r.Loaded < 0 || r.Rejected < 0 || r.Loaded+r.Rejected != r.Read {
			t.Fatalf("read %d, loaded %d, rejected %d", r.Read, r.Loaded, r.Rejected)
		}
		if r.Loaded > 0 && !r.Committed || r.Committed && r.Loaded == 0 && r.Read > 0 {
			t.Fatalf("committed %v with %d member(s) read, %d loaded", r.Committed, r.Read, r.Loaded)
		}
		if loads := map[bool]int{true: 1}[r.Committed]; status.Loads834 != loads || status.Members > int64(r.Loaded) {
			t.Fatalf("committed %v, %d loaded: the store has %d load(s), %d member(s)", r.Committed, r.Loaded, status.Loads834, status.Members)
		}
		want := []string{filepath.Base(r.Report)}
		if r.Ack != "" {
			want = append(want, filepath.Base(r.Ack))
		}
		var names []string
		for _, o := range outs {
			names = append(names, o.Name())
		}
		slices.Sort(want)
		if !reflect.DeepEqual(names, want) {
			t.Fatalf("output files %q, the result names %q", names, want)
		}
		recs, err := csv.NewReader(bytes.NewReader(readFile(t, r.Report))).ReadAll()
		if err != nil || len(recs) == 0 || !reflect.DeepEqual(recs[0], report834Header) {
			t.Fatalf("report: %v %q", err, recs)
		}
		named := map[int]bool{}
		for _, rec := range recs[1:] {
			if len(rec) != len(report834Header) || rec[0] != "in.834" || rec[7] == "" {
				t.Fatalf("report row %q", rec)
			}
			if rec[7] == rules.EnrollmentMemberInvalid {
				n, err := strconv.Atoi(rec[1])
				if err != nil || n < 1 || n > r.Read {
					t.Fatalf("report row of member %q; %d read", rec[1], r.Read)
				}
				named[n] = true
			}
		}
		if len(named) > r.Rejected {
			t.Fatalf("%d member(s) reported skipped, %d rejected", len(named), r.Rejected)
		}
		if r.Ack == "" {
			return
		}
		if r.Findings == 0 {
			t.Fatal("a 999 for a file the guide found nothing in")
		}
		if !soundEnvelopes(data) {
			return
		}
		var findings []string
		sum, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { findings = append(findings, f.String()) }}).
			Validate(ctx, bytes.NewReader(readFile(t, r.Ack)))
		if err != nil || len(findings) > 0 || sum.Transactions == 0 {
			t.Fatalf("the 999 fails our validator: %v %+v %q\n%s", err, sum, findings, readFile(t, r.Ack))
		}
	})
}

// soundEnvelopes reports whether our validator finds nothing wrong with
// data's ISA, IEA, GS, GE or ST, nor an ST01 or ST02 missing, invalid or
// not supported (IK502 1, 6 and 7): the values a 999 repeats.
func soundEnvelopes(data []byte) bool {
	sound := true
	_, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) {
		sound = sound && f.Level != ig.LevelInterchange && f.Level != ig.LevelGroup &&
			f.Segment != "ST" && !(f.Level == ig.LevelTransaction && (f.Code == "1" || f.Code == "6" || f.Code == "7"))
	}}).Validate(context.Background(), bytes.NewReader(data))
	return err == nil && sound
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
