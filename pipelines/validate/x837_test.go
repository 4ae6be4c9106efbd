package validate

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
)

// validate checks our own 837s against the DHCS conventions of the
// profile: receiver IDs, ISA06 TIN+HCP, GS02 TIN, CLM01 prefixed with the
// file's one HCP code.
func TestCheck837DHCSConventions(t *testing.T) {
	cfg := config.Default()
	p := cfg.Partners[config.DefaultPartner]
	p.Plan.TIN = "951234567"
	p.Plan.HCPCodes = map[string]string{"33": "305", "36": "306"}
	cfg.Partners[config.DefaultPartner] = p
	v := &validator{cfg: cfg}
	v.once.Do(func() {})

	good := []string{
		"ISA*00*          *00*          *ZZ*951234567305   *ZZ*CALIFORNIA-DHCS*261123*1030*^*00501*000000001*0*T*:",
		"GS*HC*951234567*CALIFORNIA-DHCS*20261123*1030*1*X*005010X222A1",
		"ST*837*0001*005010X222A1",
		"NM1*41*2*PLAN*****46*951234567",
		"NM1*40*2*CALIFORNIA-DHCS*****46*610442",
		"CLM*3051C1*100***12:B:1*Y*A*Y*Y",
		"CLM*3051C2*100***12:B:1*Y*A*Y*Y",
		"SE*6*0001", "GE*1*1", "IEA*1*000000001",
	}
	tests := []struct {
		name    string
		line    int // index in good
		replace string
		want    string // "" = no problem
	}{
		{"our own file passes", 0, good[0], ""},
		{"ISA08 must be the profile's receiver", 0, strings.Replace(good[0], "CALIFORNIA-DHCS", "DHCS-ENCOUNTER ", 1), "ISA08"},
		{"ISA06 must be TIN + one of the plan's HCP codes", 0, strings.Replace(good[0], "951234567305", "951234567999", 1), "ISA06"},
		{"GS02 must be the TIN", 1, strings.Replace(good[1], "*951234567*", "*951234567305*", 1), "GS02"},
		{"GS03 must be the profile's receiver", 1, strings.Replace(good[1], "CALIFORNIA-DHCS", "DHCS", 1), "GS03"},
		{"1000B NM109 must be the profile's receiver ID", 4, strings.Replace(good[4], "610442", "DHCS", 1), "1000B NM109"},
		{"CLM01 must start with an HCP code", 6, strings.Replace(good[6], "3051C2", "INV-1", 1), "does not start with"},
		{"one HCP code per file", 6, strings.Replace(good[6], "3051C2", "3061C2", 1), "one file per HCP code"},
		{"another sender's 837 is not checked", 0, strings.NewReplacer("951234567305", "OTHERSENDER ", "CALIFORNIA-DHCS", "SOMEONE-ELSE   ").Replace(good[0]), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := append([]string(nil), good...)
			lines[tt.line] = tt.replace
			path := filepath.Join(t.TempDir(), "x.837")
			if err := os.WriteFile(path, []byte(strings.Join(lines, "~")+"~"), 0o644); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			n, err := check837(context.Background(), v, path, &out)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want == "" && n != 0:
				t.Errorf("%d problem(s):\n%s", n, out.String())
			case tt.want != "" && (n != 1 || !strings.Contains(out.String(), tt.want)):
				t.Errorf("%d problem(s), want one naming %q:\n%s", n, tt.want, out.String())
			}
		})
	}
}

// A file holding only a TA1 (an interchange acknowledgment, no group) is
// named as such and its TA1 checked against the control segments' codes.
func TestTA1File(t *testing.T) {
	const isa = "ISA*00*          *00*          *ZZ*CALIFORNIA-DHCS*ZZ*123456789ABC   *261201*1200*^*00501*000000001*0*P*:~"
	for _, tt := range []struct {
		name, ta1 string
		status    Status
		want      string
	}{
		{"accepted", "TA1*000000123*261201*1159*A*000~", OK, "X12 TA1 (1), 3 segment(s)"},
		{"unknown acknowledgment code", "TA1*000000123*261201*1159*Q*000~", Invalid, "TA104 (Interchange Acknowledgement Code) is not one of the guide's codes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "answer.ta1")
			if err := os.WriteFile(path, []byte(isa+tt.ta1+"IEA*0*000000001~"), 0o644); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			reps := Files(context.Background(), []string{path}, Options{Line: func(s string) { out.WriteString(s + "\n") }})
			if len(reps) != 1 || reps[0].Status != tt.status || reps[0].X12 == nil || reps[0].X12.TA1s != 1 {
				t.Fatalf("%+v\n%s", reps, out.String())
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("want %q in:\n%s", tt.want, out.String())
			}
		})
	}
}
