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
