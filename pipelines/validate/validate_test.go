package validate

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestValidateGC(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	for _, c := range []struct {
		gogc string
		want int
	}{{"", validateGCPercent}, {"50", 100}} {
		t.Setenv("GOGC", c.gogc)
		restore := validateGC()
		got := debug.SetGCPercent(100)
		debug.SetGCPercent(got)
		restore()
		if got != c.want {
			t.Errorf("GOGC=%q: GC percent while validating %d, want %d", c.gogc, got, c.want)
		}
		if after := debug.SetGCPercent(100); after != 100 {
			t.Errorf("GOGC=%q: GC percent after %d, want 100 restored", c.gogc, after)
		}
	}
}

// A file of no known layout is described without echoing its first row,
// which may be member data.
func TestUnknownLayoutEchoesNoRow(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rows.csv")
	if err := os.WriteFile(p, []byte("A-1,91234567A,Rivera,1978-04-12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []string
	reps := Files(context.Background(), []string{p}, Options{Line: func(s string) { lines = append(lines, s) }})
	if len(reps) != 1 || reps[0].Status != Unusable || reps[0].Err == nil {
		t.Fatalf("%+v", reps)
	}
	msg := reps[0].Err.Error() + strings.Join(lines, "\n")
	for _, phi := range []string{"91234567A", "Rivera", "1978-04-12"} {
		if strings.Contains(msg, phi) {
			t.Errorf("echoes %s: %s", phi, msg)
		}
	}
	if !strings.Contains(msg, "header row missing") {
		t.Errorf("%s", msg)
	}
}

// X12 that calgw has no guide for, and UTF-16 text, cannot be checked
// (Unusable, exit 2) and the report says why; what is only warned about
// stays OK.
func TestX12FileStatus(t *testing.T) {
	tests := []struct {
		file     string
		want     Status
		wantErr  string // in Report.Err ("" none)
		wantLine string // in a report line
	}{
		{"835.x12", Unusable, "unsupported transaction set 835 (005010X221A1)", "X12 835 005010X221A1 (not supported)"},
		{"837i.x12", Unusable, "unsupported transaction set 837 (005010X223A2)", "X12 837 005010X223A2 (not supported)"},
		{"270.x12", Unusable, "unsupported transaction set 270 (005010X279A1)", "X12 270 005010X279A1 (not supported)"},
		{"837p-4010.x12", Unusable, "unsupported transaction set 837 (004010X098A1)", "X12 837 004010X098A1 (not supported)"},
		{"837p-utf16.x12", Unusable, "UTF-16", ""},
		{"837p-indented-bom.x12", OK, "", "(warning)"},
		{"999-x231.x12", OK, "", "X12 999 005010X231A1"},
		{"834-ref3h-packed.x12", OK, "", "2 member loop(s), 0 with data problems"},
		{"837p-cut-short.x12", Invalid, "", "segment 46 (line 46, byte 1308) SE: input ends inside a transaction set"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var lines []string
			reps := Files(context.Background(), []string{filepath.Join("..", "..", "testdata", "x12", tt.file)},
				Options{Line: func(s string) { lines = append(lines, s) }})
			r := reps[0]
			if r.Status != tt.want {
				t.Errorf("status %d, want %d (err %v)", r.Status, tt.want, r.Err)
			}
			if (r.Err == nil) != (tt.wantErr == "") || r.Err != nil && !strings.Contains(r.Err.Error(), tt.wantErr) {
				t.Errorf("err %v, want %q", r.Err, tt.wantErr)
			}
			if all := strings.Join(lines, "\n"); !strings.Contains(all, tt.wantLine) {
				t.Errorf("report lacks %q:\n%s", tt.wantLine, all)
			}
		})
	}
}

// limits.findings_per_file bounds the problems printed for a file (the rest
// are counted in one line), and limits.loop_segments refuses an X12 file
// with an over-long loop, naming the segment.
func TestValidateLimits(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "calgw.yaml")
	if err := os.WriteFile(cfg, []byte("limits:\n  findings_per_file: 2\n  loop_segments: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	inv := filepath.Join(dir, "inv.csv")
	row := "INV-1,2026-10-01,1456789018,94123456,Bay,1 Main St,Fresno,CA,93721,91234567A,Doe,Pat,1980-01-01,2026-09-01,2026-09-01,99213,,1,1.00\n"
	if err := os.WriteFile(inv, []byte("invoice_number,invoice_date,billing_npi,billing_tin,billing_name,billing_address,billing_city,billing_state,billing_zip,member_cin,member_last_name,member_first_name,member_dob,service_from,service_to,hcpcs,modifiers,units,charge_amount\n"+row+row), 0o644); err != nil {
		t.Fatal(err)
	}
	var lines []string
	reps := Files(context.Background(), []string{inv, filepath.Join("..", "..", "testdata", "x12", "834-clean.x12")},
		Options{Config: cfg, Line: func(s string) { lines = append(lines, s) }})
	problems, more := 0, ""
	for _, l := range lines {
		switch {
		case strings.Contains(l, "row "):
			problems++
		case strings.Contains(l, "more problem(s) not shown"):
			more = l
		}
	}
	if problems != 2 || !strings.Contains(more, "inv.csv: ") || reps[0].Status != Invalid {
		t.Errorf("invoice: %d problems shown, %q, %v\n%s", problems, more, reps[0].Status, strings.Join(lines, "\n"))
	}
	if reps[1].Status != Unusable || reps[1].Err == nil || !strings.Contains(reps[1].Err.Error(), "segment 6 ") || !strings.Contains(reps[1].Err.Error(), "loop_segments") {
		t.Errorf("834: %v %v", reps[1].Status, reps[1].Err)
	}
}
