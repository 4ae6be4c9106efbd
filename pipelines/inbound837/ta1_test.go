package inbound837

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// TestTA1Modes: the partner's TA1 setting. The TA1 is checked against its
// structure: an interchange from the plan back to the sender holding one
// TA1 whose TA101 is the input's ISA13, TA104 A/E/R and TA105 a note code.
func TestTA1Modes(t *testing.T) {
	good := twoClaims(t)
	badIEA := strings.Replace(good, "IEA*1*000000101", "IEA*1*000000102", 1)
	cases := []struct {
		name, mode, in string
		want           string // the TA1 segment, "" for none
	}{
		{"always, clean", TA1Always, good, "TA1*000000101*260115*1200*A*000~"},
		{"on error, clean", TA1OnError, good, ""},
		{"on error, IEA02 does not match ISA13", TA1OnError, badIEA, "TA1*000000101*260115*1200*R*001~"},
		{"default is on error", "", badIEA, "TA1*000000101*260115*1200*R*001~"},
		{"never, IEA02 does not match ISA13", TA1Never, badIEA, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := Edit(context.Background(), strings.NewReader(c.in), Options{
				TA1: x12.NewWriter(&buf, x12.DefaultDelimiters), TA1Mode: c.mode, Numbers: &numbers{n: 700},
				Now: func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) },
			})
			if err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if c.want == "" {
				if out != "" {
					t.Errorf("TA1 written:\n%s", out)
				}
				return
			}
			checkTA1(t, out, c.want)
		})
	}
	if _, err := Edit(context.Background(), strings.NewReader(good), Options{TA1: x12.NewWriter(&bytes.Buffer{}, x12.DefaultDelimiters),
		TA1Mode: "sometimes", Numbers: &numbers{}}); err == nil {
		t.Error("an unknown TA1 mode is accepted")
	}
}

func checkTA1(t *testing.T, out, want string) {
	t.Helper()
	segs := strings.Split(strings.TrimSuffix(out, "~"), "~")
	if len(segs) != 3 || !strings.HasPrefix(segs[0], "ISA*") || !strings.HasPrefix(segs[2], "IEA*0*") {
		t.Fatalf("TA1 interchange is not ISA, TA1, IEA with no groups:\n%s", out)
	}
	isa := strings.Split(segs[0], "*")
	if len(segs[0]) != 105 || strings.TrimSpace(isa[6]) != "DHCSENC" || strings.TrimSpace(isa[8]) != "CALAIMGW" {
		t.Errorf("ISA not 106 characters or not addressed back to the sender: %s", segs[0])
	}
	if !strings.HasSuffix(segs[2], "*"+isa[13]) {
		t.Errorf("IEA02 is not the TA1 interchange's ISA13: %s / %s", segs[2], isa[13])
	}
	ta1 := strings.Split(segs[1], "*")
	if len(ta1) != 6 || len(ta1[1]) != 9 || !strings.Contains("AER", ta1[4]) || len(ta1[5]) != 3 {
		t.Errorf("TA1 structure: %s", segs[1])
	}
	if segs[1]+"~" != want {
		t.Errorf("TA1 = %s~, want %s", segs[1], want)
	}
}

// TestAK9Outcomes: a group whose two sets are one accepted and one rejected
// is partially accepted (AK9 P), with IK5 A and IK5 R; an accepted set with
// a warning is IK5 E and AK9 E (TestPartnerOverride); all rejected is AK9 R
// and all clean AK9 A (TestEditLevels).
func TestAK9Outcomes(t *testing.T) {
	base := twoClaims(t)
	st := strings.Index(base, "ST*837*0001")
	se := strings.Index(base, "GE*1*101")
	set := base[st:se]
	second := strings.Replace(strings.Replace(set, "ST*837*0001", "ST*837*0002", 1), "SE*45*0001", "SE*45*0002", 1)
	second = strings.Replace(second, "DMG*D8*19800214*F", "DMG*D8*19801314*F", 1)
	in := base[:se] + second + strings.Replace(base[se:], "GE*1*101", "GE*2*101", 1)
	var buf bytes.Buffer
	a := ack.New999(x12.NewWriter(&buf, x12.DefaultDelimiters), &numbers{})
	var statuses []ig.Status
	if _, err := Edit(context.Background(), strings.NewReader(in), Options{Ack999: a,
		OnSet: func(s *SetResult) error { statuses = append(statuses, s.Status); return nil }}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, w := range []string{"AK2*837*0001*005010X222A1~IK5*A~", "AK2*837*0002*005010X222A1~IK3*DMG*", "IK5*R*", "AK9*P*2*2*1~"} {
		if !strings.Contains(out, w) {
			t.Errorf("999 lacks %q:\n%s", w, out)
		}
	}
	if len(statuses) != 2 || statuses[0] != ig.Accepted || statuses[1] != ig.Rejected {
		t.Errorf("set statuses %v", statuses)
	}
	var findings []string
	if _, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { findings = append(findings, f.String()) }}).
		Validate(context.Background(), strings.NewReader(out)); err != nil || len(findings) > 0 {
		t.Errorf("999 fails validation: %v %v", err, findings)
	}
}

// TestAK9OfAGroupWithoutSets: a group holding no transaction set has
// none accepted: AK9 R, as the validator's own 999 answers it.
func TestAK9OfAGroupWithoutSets(t *testing.T) {
	base := twoClaims(t)
	in := base[:strings.Index(base, "ST*837*0001")] + "GE*0*101~" + base[strings.Index(base, "IEA*"):]
	for _, own := range []bool{false, true} {
		var buf bytes.Buffer
		a := ack.New999(x12.NewWriter(&buf, x12.DefaultDelimiters), &numbers{})
		var err error
		if own {
			var vo ig.Options
			a.Attach(&vo)
			_, err = ig.NewValidator(vo).Validate(context.Background(), strings.NewReader(in))
		} else {
			_, err = Edit(context.Background(), strings.NewReader(in), Options{Ack999: a})
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "~AK1*HC*101*005010X222A1~AK9*R*0*0*0~") {
			t.Errorf("999 (the validator's own: %v) lacks AK9*R*0*0*0:\n%s", own, buf.String())
		}
	}
}

// TestCTXNamesTheClaim: an error inside a claim (2300, 2400) is followed
// in the 999 by CTX*CLM01:<the claim's CLM01> after its IK3 (999 2100 CTX
// Business Unit Identifier); an error outside a claim, or in a claim whose
// CLM01 is itself in error, has none.
func TestCTXNamesTheClaim(t *testing.T) {
	cases := []struct {
		name, from, to string
		want, not      []string
	}{
		{"2400 DTP date", "DTP*472*D8*20260109~", "DTP*472*D8*20261309~",
			[]string{"~IK3*DTP*", "*2400*8~CTX*CLM01:ENC1002~IK4*3*1251*8*"}, []string{"CLM01:ENC1001"}},
		{"2300 DTP date", "DTP*454*D8*20260102~", "DTP*454*D8*20261302~",
			[]string{"*2300*8~CTX*CLM01:ENC1001~IK4*3*1251*8*"}, []string{"CLM01:ENC1002"}},
		{"2010BA DMG date after a claim", "DMG*D8*19671130*M", "DMG*D8*19671330*M", []string{"*2010BA*8~IK4*"}, []string{"CTX*"}},
		{"CLM01 in error (too long)", "CLM*ENC1002*", "CLM*ENC1002" + strings.Repeat("9", 40) + "*", []string{"~IK3*CLM*"}, []string{"CTX*"}},
		{"CLM01 longer than CTX01-2", "CLM*ENC1002*75.5**", "CLM*ENC1002" + strings.Repeat("9", 29) + "*75.5**", []string{"*2400*8~IK4*"}, []string{"CTX*"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := twoClaims(t)
			if !strings.Contains(in, c.from) {
				t.Fatalf("%q not in the file", c.from)
			}
			if strings.HasPrefix(c.name, "CLM01 longer") { // and an error in its 2400
				in = strings.Replace(in, "DTP*472*D8*20260109~", "DTP*472*D8*20261309~", 1)
			}
			var buf bytes.Buffer
			a := ack.New999(x12.NewWriter(&buf, x12.DefaultDelimiters), &numbers{})
			if _, err := Edit(context.Background(), strings.NewReader(strings.Replace(in, c.from, c.to, 1)), Options{Ack999: a}); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("999 lacks %q:\n%s", w, out)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out, n) {
					t.Errorf("999 has %q:\n%s", n, out)
				}
			}
			var findings []string
			if _, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { findings = append(findings, f.String()) }}).
				Validate(context.Background(), strings.NewReader(out)); err != nil || len(findings) > 0 {
				t.Errorf("999 fails validation: %v %v\n%s", err, findings, out)
			}
		})
	}
}
