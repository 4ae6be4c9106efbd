package inbound837

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

func write277(t *testing.T, in string, p snip.Profile) string {
	t.Helper()
	var buf bytes.Buffer
	w277 := NewWriter277(x12.NewWriter(&buf, x12.DefaultDelimiters), &numbers{n: 500},
		Party{Name: "SUNRISE HEALTH PLAN", ID: "SHP001"}, func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) })
	if _, err := Edit(context.Background(), strings.NewReader(in), Options{Profile: p, Ack277: w277}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() == 0 {
		return ""
	}
	var findings []string
	if _, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { findings = append(findings, f.String()) }}).
		Validate(context.Background(), bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if len(findings) > 0 {
		t.Errorf("the 277CA fails validation: %v\n%s", findings, buf.String())
	}
	return buf.String()
}

// TestWrite277CA: one 277CA per claim status. Each claim is answered under
// its CLM01 (TRN*2); an accepted one is A2:20 with the plan's 15-digit
// number in REF*1K, a rejected one A7 with the status code of its edit and
// no plan number; either returns the intermediary's claim identifier sent
// in 2300 REF*D9 (005010X214 2200D REF*D9), and only when one was sent;
// the batch counts follow.
func TestWrite277CA(t *testing.T) {
	base := twoClaims(t)
	cases := []struct {
		name, from, to string
		want, not      []string
	}{
		{"all accepted", "", "", []string{
			"TRN*2*ENC1001~STC*A2:20:PR*20260116*WQ*300~REF*1K*000000101000001~REF*D9*CLMREF1001~DTP*472*RD8*20260105-20260107~",
			"TRN*2*ENC1002~STC*A2:20:PR*20260116*WQ*75.5~REF*1K*000000101000002~DTP*472*D8*20260109~",
			"QTY*90*2~AMT*YU*375.5~", "NM1*85*2*HARBOR COMMUNITY SUPPORTS*****XX*1234567893~",
			"ISA*00*          *00*          *ZZ*DHCSENC        *ZZ*CALAIMGW       *",
		}, []string{"QTY*AA", "REF*1K*000000101000002~REF*D9"}},
		{"one rejected for balancing", "CLM*ENC1001*300*", "CLM*ENC1001*301*", []string{
			"TRN*2*ENC1001~STC*A7:178*20260116*U*301~REF*D9*CLMREF1001~DTP",
			"TRN*2*ENC1002~STC*A2:20:PR*20260116*WQ*75.5~REF*1K*000000101000002~",
			"QTY*90*1~QTY*AA*1~AMT*YU*75.5~AMT*YY*301~",
		}, []string{"REF*1K*000000101000001"}},
		{"one rejected for HCPCS", "SV1*HC:T1016:U8*75.50*UN*3***1", "SV1*HC:T1X16:U8*75.50*UN*3***1", []string{
			"TRN*2*ENC1002~STC*A7:454*20260116*U*75.5~",
		}, []string{"REF*1K*000000101000002"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base
			if c.from != "" {
				if !strings.Contains(in, c.from) {
					t.Fatalf("%q not in the file", c.from)
				}
				in = strings.Replace(in, c.from, c.to, 1)
			}
			out := write277(t, in, snip.Profile{})
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("277CA lacks %q:\n%s", w, out)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out, n) {
					t.Errorf("277CA has %q:\n%s", n, out)
				}
			}
		})
	}
}

// TestWrite277CAEntityOfTheParty: a claim rejected for an NPI or an
// address inside it names in STC01-3 the party whose NM1 or N4 failed
// (82 rendering provider, 77 service facility), not the billing provider:
// status codes 562 and 126 are "Entity's ..." codes (005010X214 2200D
// STC01-3); the billing provider's own fail the whole set in the 999.
func TestWrite277CAEntityOfTheParty(t *testing.T) {
	for _, c := range []struct{ name, loop, se, want string }{
		{"rendering provider's NPI (2310B)", "NM1*82*1*DOE*JANE****XX*1234567890~", "SE*46*0001~", "TRN*2*ENC1002~STC*A7:562:82*20260116*U*75.5~"},
		{"service facility's ZIP (2310C)", "NM1*77*2*EAST CLINIC*****XX*1234567893~N3*1 MAIN ST~N4*SACRAMENTO*CA*9581~", "SE*48*0001~",
			"TRN*2*ENC1002~STC*A7:126:77*20260116*U*75.5~"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := strings.Replace(twoClaims(t), "HI*ABK:Z5900~", "HI*ABK:Z5900~"+c.loop, 1)
			in = strings.Replace(in, "SE*45*0001~", c.se, 1)
			out := write277(t, in, snip.Profile{})
			if !strings.Contains(out, c.want) || strings.Contains(out, "REF*1K*000000101000002") {
				t.Errorf("277CA lacks %q (or accepts the claim):\n%s", c.want, out)
			}
		})
	}
}

// TestNo277CAForARejectedSet: a set rejected in the 999 gets no 277CA.
func TestNo277CAForARejectedSet(t *testing.T) {
	out := write277(t, strings.Replace(twoClaims(t), "XX*1234567893", "XX*1234567890", 1), snip.Profile{})
	if out != "" {
		t.Errorf("277CA for a rejected set:\n%s", out)
	}
}

// TestNo277CAForASetWithoutClaims: a set the 999 accepts whose
// subscribers have no claim gets no 277 (2000C and 2000D are required in
// 005010X214); the claims of the other sets are answered.
func TestNo277CAForASetWithoutClaims(t *testing.T) {
	base := twoClaims(t)
	st, se := strings.Index(base, "ST*837*0001"), strings.Index(base, "GE*1*101")
	claim := strings.Index(base, "NM1*PR*2*SUNRISE HEALTH PLAN*****PI*SHP01~") + len("NM1*PR*2*SUNRISE HEALTH PLAN*****PI*SHP01~")
	// The second set: the header, the billing provider and the first
	// subscriber, with no claim.
	empty := strings.Replace(base[st:claim], "ST*837*0001", "ST*837*0002", 1)
	empty += "SE*" + strconv.Itoa(strings.Count(empty, "~")+1) + "*0002~"
	cases := []struct {
		name, in string
		sets     int // 277s written
	}{
		{"set without claims alone", base[:st] + empty + base[se:], 0},
		{"after a set with claims", base[:se] + empty + strings.Replace(base[se:], "GE*1*101", "GE*2*101", 1), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := edit(t, c.in, snip.Profile{})
			for _, s := range o.sets {
				if s.Status != ig.Accepted {
					t.Fatalf("set %s %c, want accepted:\n%s", s.Control, s.Status, o.ack999)
				}
			}
			out := write277(t, c.in, snip.Profile{}) // passes the validator
			if n := strings.Count(out, "~ST*277*"); n != c.sets {
				t.Errorf("%d 277s, want %d:\n%s", n, c.sets, out)
			}
		})
	}
}

// TestEchoedValuesHoldingThe277sSeparators: an input with no valid
// repetition separator (ISA11 U) may hold a ^ in any value; its 277 uses
// the default separators, ^ among them, and writes the values it repeats
// (the claim's, and the sender's IDs in its ISA and GS) with the ^ or :
// as a space instead of failing the file.
func TestEchoedValuesHoldingThe277sSeparators(t *testing.T) {
	in := strings.NewReplacer("*^*00501*", "*U*00501*", "CLM*ENC1002*", "CLM*ENC^1002*",
		"NM1*IL*1*NGUYEN*BAO*", "NM1*IL*1*NGUYEN^TRAN*BAO*", "REF*D9*CLMREF1001~", "REF*D9*CLM^1001~",
		"*ZZ*CALAIMGW       *", "*ZZ*CALAIM:GW      *", "GS*HC*CALAIMGW*", "GS*HC*CALAIM^GW*").Replace(twoClaims(t))
	out := write277(t, in, snip.Profile{}) // passes the validator
	for _, w := range []string{"~TRN*2*ENC 1002~", "~NM1*QC*1*NGUYEN TRAN*BAO****MI*98765432B~", "~REF*D9*CLM 1001~",
		"*ZZ*CALAIM GW      *", "~GS*HN*DHCSENC*CALAIM GW*"} {
		if !strings.Contains(out, w) {
			t.Errorf("277CA lacks %q:\n%s", w, out)
		}
	}
}

// TestWrite277CAPersonOrOrganization: the submitter (2100B) and billing
// provider (2100C) are named as the 837P names them: a person (NM102 1)
// with its first name, an organization (2) without.
func TestWrite277CAPersonOrOrganization(t *testing.T) {
	cases := []struct {
		name     string
		from, to string
		want     string
	}{
		{"organizations", "", "", "~NM1*41*2*SUNRISE HEALTH PLAN*****46*SHP001~"},
		{"billing provider an organization", "", "", "~NM1*85*2*HARBOR COMMUNITY SUPPORTS*****XX*1234567893~"},
		{"billing provider a person", "NM1*85*2*HARBOR COMMUNITY SUPPORTS*****XX*", "NM1*85*1*SMITH*JOHN****XX*",
			"~NM1*85*1*SMITH*JOHN****XX*1234567893~"},
		{"submitter a person", "NM1*41*2*SUNRISE HEALTH PLAN*****46*", "NM1*41*1*DOE*JANE****46*",
			"~NM1*41*1*DOE*JANE****46*SHP001~"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := twoClaims(t)
			if !strings.Contains(in, c.from) {
				t.Fatalf("%q not in the file", c.from)
			}
			out := write277(t, strings.Replace(in, c.from, c.to, 1), snip.Profile{}) // passes the validator
			if !strings.Contains(out, c.want) {
				t.Errorf("277CA lacks %q:\n%s", c.want, out)
			}
		})
	}
}

// TestAssignedNumber: the batch zero-padded to 9 digits, then the claim's
// ordinal in 6, or whole past 999,999 (never the number of another claim
// of the interchange); a longer batch is kept whole.
func TestAssignedNumber(t *testing.T) {
	for _, tt := range []struct {
		isa13   string
		ordinal int
		want    string
	}{
		{"000000101", 1, "000000101000001"},
		{"123", 42, "000000123000042"},
		{"", 5, "000000000000005"},
		{"000000101", 999_999, "000000101999999"},
		{"000000101", 1_000_000, "0000001011000000"},
		{"000000101", 1_000_001, "0000001011000001"},
		{"000000101", 1_234_567, "0000001011234567"},
		{"1234567890", 1_000_001, "12345678901000001"},
		{"1234567890", 7, "1234567890000007"},
	} {
		if got := AssignedNumber(tt.isa13, tt.ordinal); got != tt.want {
			t.Errorf("AssignedNumber(%q, %d) = %q, want %q", tt.isa13, tt.ordinal, got, tt.want)
		}
	}
}

// TestEvery277CAPassesTheValidator: the 277CA written for each 837P of
// testdata passes the implementation-guide validator (calgw validate);
// a dependent patient (2010CA NM1*QC with no ID) is answered in 2100D
// under the subscriber's member ID (2010BA NM109, qualifier MI).
func TestEvery277CAPassesTheValidator(t *testing.T) {
	files, err := filepath.Glob("../../testdata/x12/837p-*.x12")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "testdata/837p-two-claims.x12")
	written := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		w277 := NewWriter277(x12.NewWriter(&buf, x12.DefaultDelimiters), &numbers{n: 500},
			Party{Name: "SUNRISE HEALTH PLAN", ID: "SHP001"}, func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) })
		if _, err := Edit(context.Background(), bytes.NewReader(b), Options{Ack277: w277}); err != nil || buf.Len() == 0 {
			continue // not an 837P this pass reads, or no set accepted
		}
		written++
		var findings []string
		if _, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { findings = append(findings, f.String()) }}).
			Validate(context.Background(), bytes.NewReader(buf.Bytes())); err != nil || len(findings) > 0 {
			t.Errorf("%s: the 277CA fails validation: %v %v\n%s", filepath.Base(f), err, findings, buf.String())
		}
		if filepath.Base(f) == "837p-patient.x12" && !strings.Contains(buf.String(), "~NM1*QC*1*LOPEZ*SOFIA****MI*93456789C~") {
			t.Errorf("the dependent is not answered under the subscriber's ID:\n%s", buf.String())
		}
	}
	if written < 3 {
		t.Errorf("only %d 277CAs written", written)
	}
}

// TestWrite277CAAmountsDatesAndTrace: STC04 prints the claim's charge as
// AMT prints amounts (75.50 sent is 75.5); 2200A DTP*050 is the day the
// plan received the file, not the provider's ISA09, and 2200A TRN02 the
// plan's own trace number (the 277's BHT03), the provider's BHT03 being
// traced in 2200B.
func TestWrite277CAAmountsDatesAndTrace(t *testing.T) {
	in := strings.Replace(twoClaims(t), "CLM*ENC1002*75.5*", "CLM*ENC1002*75.50*", 1)
	var buf bytes.Buffer
	w277 := NewWriter277(x12.NewWriter(&buf, x12.DefaultDelimiters), &numbers{n: 500},
		Party{Name: "SUNRISE HEALTH PLAN", ID: "SHP001"}, func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) })
	w277.Received(time.Date(2026, 1, 15, 23, 50, 0, 0, time.UTC))
	if _, err := Edit(context.Background(), strings.NewReader(in), Options{Ack277: w277}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	bht := strings.Split(out[strings.Index(out, "~BHT*")+1:], "~")[0]
	own := strings.Split(bht, "*")[3]
	for _, w := range []string{
		"TRN*2*ENC1002~STC*A2:20:PR*20260116*WQ*75.5~",
		"~TRN*1*" + own + "~DTP*050*D8*20260115~DTP*009*D8*20260116~",
		"~NM1*41*2*SUNRISE HEALTH PLAN*****46*SHP001~TRN*2*ENC20260115001~",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("277CA lacks %q:\n%s", w, out)
		}
	}
	if own == "ENC20260115001" || !strings.HasPrefix(own, "277CA") {
		t.Errorf("2200A traces %q", own)
	}
	// The provider's ISA09 is not the receipt date.
	buf.Reset()
	w277 = NewWriter277(x12.NewWriter(&buf, x12.DefaultDelimiters), &numbers{n: 500},
		Party{Name: "SUNRISE HEALTH PLAN", ID: "SHP001"}, func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) })
	if _, err := Edit(context.Background(), strings.NewReader(in), Options{Ack277: w277}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "~DTP*050*D8*20260116~") {
		t.Errorf("receipt date not the day of the 277CA when unset:\n%s", buf.String())
	}
}

// TestAmount: the 277's sums of amounts are exact to the millionth and
// printed as AMT prints amounts.
func TestAmount(t *testing.T) {
	for _, tt := range []struct {
		add  []string
		want string
	}{
		{nil, "0"},
		{[]string{"75.50"}, "75.5"},
		{[]string{"75.05"}, "75.05"},
		{[]string{"300"}, "300"},
		{[]string{"-75.50"}, "-75.5"},
		{[]string{"0.01"}, "0.01"},
		{[]string{"300", "75.555"}, "375.555"},
		{[]string{"0.999999", "0.000001"}, "1"},
		{[]string{"10", "-0.25"}, "9.75"},
		{[]string{"-10", "0.25"}, "-9.75"},
		{[]string{"999999999999", "999999999999", "999999999999", "999999999999", "999999999999",
			"999999999999", "999999999999", "999999999999", "999999999999", "999999999999"}, "9999999999990"},
		{[]string{"1,000", "5"}, "5"},
	} {
		var a amount
		for _, v := range tt.add {
			a.add(v)
		}
		if got := a.String(); got != tt.want {
			t.Errorf("sum of %q = %q, want %q", tt.add, got, tt.want)
		}
	}
}

// TestWrite277CATotalsCountEveryCharge: a charge sent with more than two
// decimal places counts in the 277's totals as in its claim's STC04.
func TestWrite277CATotalsCountEveryCharge(t *testing.T) {
	in := strings.NewReplacer("CLM*ENC1002*75.5*", "CLM*ENC1002*75.555*", "SV1*HC:T1016:U8*75.50*", "SV1*HC:T1016:U8*75.555*").Replace(twoClaims(t))
	out := write277(t, in, snip.Profile{})
	for _, w := range []string{"~STC*A1:19:PR*20260116*WQ*375.555~", "~AMT*YU*375.555~", "~STC*A1:19:PR**WQ*375.555~", "~STC*A2:20:PR*20260116*WQ*75.555~"} {
		if !strings.Contains(out, w) {
			t.Errorf("277CA lacks %q:\n%s", w, out)
		}
	}
}

// TestAnswersUseTheSendersDelimiters: the 999, the 277CA and the TA1 of
// an interchange use its sender's delimiters, so that a value they repeat
// from it (here a CLM01 holding '*', legal where '|' separates elements)
// can always be written; an interchange whose delimiters a value of the
// answers' own could hold ('-' of date ranges) is answered with the usual
// ones. Each answer passes our own validator, one interchange per input
// interchange, whatever their delimiters.
func TestAnswersUseTheSendersDelimiters(t *testing.T) {
	two, err := os.ReadFile("testdata/837p-two-claims.x12")
	if err != nil {
		t.Fatal(err)
	}
	pipes := bytes.ReplaceAll(bytes.ReplaceAll(two, []byte("*"), []byte("|")), []byte("ENC1001"), []byte("ENC*1001"))
	dashes := bytes.ReplaceAll(bytes.ReplaceAll(bytes.ReplaceAll(two, []byte("RD8*20260106-20260107"), []byte("D8*20260106")),
		[]byte("-"), []byte("")), []byte("*"), []byte("-"))
	dashes = bytes.ReplaceAll(dashes, []byte("000000101"), []byte("000000102"))
	last := bytes.ReplaceAll(two, []byte("000000101"), []byte("000000103"))
	in := append(append(append([]byte{}, pipes...), dashes...), last...)
	a := newAnswers()
	sum, err := Edit(context.Background(), bytes.NewReader(in), a.options())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Interchanges != 3 || sum.Claims != 6 || sum.ClaimsRejected != 0 {
		t.Errorf("summary %+v, want 3 interchanges of 2 claims, all accepted", sum)
	}
	for name, out := range a.all() {
		isas := strings.Split(out, "ISA")[1:]
		if len(isas) != 3 {
			t.Fatalf("%s: %d interchanges, want 3:\n%s", name, len(isas), out)
		}
		for k, sep := range []string{"|", "*", "*"} {
			if !strings.HasPrefix(isas[k], sep+"00"+sep) {
				t.Errorf("%s interchange %d: ISA%s…, want %q as its element separator", name, k+1, isas[k][:4], sep)
			}
		}
		if err := validAnswer(out); err != nil {
			t.Errorf("the %s %v\n%s", name, err, out)
		}
	}
	if !strings.Contains(a.b277.String(), "~TRN|2|ENC*1001~STC|A2:20:PR|") {
		t.Errorf("277CA lacks the claim ENC*1001 accepted under its own CLM01:\n%s", a.b277.String())
	}
}

// TestDowngradedEditOnAValueThe277CARepeats: a partner whose profile
// warns on the validator's edits (or makes them reject only the claim)
// still gets every answer valid. A finding on a value the 277CA repeats
// from the set (a CLM01 longer than 2200D TRN02's 50 characters, a claim
// without the service date 2200D DTP*472 requires, a patient's name or a
// REF*D9 too long, a service date or CLM02 that is not one) rejects its
// set in the 999 whatever the profile says, with its IK3; the other set of
// the group is accepted and answered in the 277CA, and the 999 and the
// 277CA pass our own validator.
func TestDowngradedEditOnAValueThe277CARepeats(t *testing.T) {
	two := twoClaims(t)
	st, se := strings.Index(two, "ST*837*"), strings.Index(two, "GE*1*101")
	second := strings.NewReplacer("ST*837*0001", "ST*837*0002", "SE*45*0001", "SE*45*0002", "ENC1001", "ENC2001", "ENC1002", "ENC2002").Replace(two[st:se])
	line := "LX*1~\nSV1*HC:T1016:U8*75.50*UN*3***1~\nDTP*472*D8*20260109~\nREF*6R*ENC1002-1~\n"
	if !strings.Contains(two, line) {
		t.Fatalf("%q not in the file", line)
	}
	long := func(n int) string { return strings.Repeat("9", n) }
	cases := []struct {
		name  string
		edits [][2]string
		ik3   string // in the 999, for the first set
	}{
		{"CLM01 of 51 characters", [][2]string{{"CLM*ENC1002*", "CLM*" + long(51) + "*"}}, "~IK3*CLM*39*2300*8~IK4*1*1028*5*"},
		{"claim without a service date", [][2]string{{"DTP*472*D8*20260109~\n", ""}, {"SE*45*0001", "SE*44*0001"}}, "~IK3*DTP*"},
		{"claim without a service line", [][2]string{{line, ""}, {"SE*45*0001", "SE*41*0001"}}, "~IK3*LX*"},
		{"service date not a date", [][2]string{{"DTP*472*D8*20260109~", "DTP*472*D8*20261309~"}}, "~IK3*DTP*43*2400*8~CTX*CLM01:ENC1002~IK4*3*1251*8*"},
		{"CLM02 not an amount", [][2]string{{"CLM*ENC1002*75.5*", "CLM*ENC1002*75.5X*"}}, "~IK3*CLM*39*2300*8~CTX*CLM01:ENC1002~IK4*2*782*6~"},
		{"patient's last name of 61 characters", [][2]string{{"NM1*IL*1*NGUYEN*", "NM1*IL*1*NGUYEN" + long(55) + "*"}}, "~IK3*NM1*34*2010BA*8~IK4*3*1035*5*"},
		{"patient's ID missing", [][2]string{{"NGUYEN*BAO****MI*98765432B~", "NGUYEN*BAO~"}}, "~IK3*NM1*34*2010BA*8~IK4*8*66*1~IK4*9*67*1~"},
		{"REF*D9 of 51 characters", [][2]string{{"REF*D9*CLMREF1001~", "REF*D9*" + long(51) + "~"}}, "~IK3*REF*22*2300*8~CTX*CLM01:ENC1001~IK4*2*127*5*"},
	}
	var warn, claim = map[string]string{}, map[string]string{}
	for _, id := range []string{snip.SyntaxSegment, snip.SyntaxElement, snip.GuideSegment, snip.GuideElement, snip.SituationalSet} {
		warn[id], claim[id] = "warn", "reject_claim"
	}
	for _, c := range cases {
		for _, overrides := range []map[string]string{warn, claim} {
			p, err := snip.NewProfile(overrides)
			if err != nil {
				t.Fatal(err)
			}
			t.Run(c.name+" "+overrides[snip.SyntaxElement], func(t *testing.T) {
				first := two[st:se]
				for _, e := range c.edits {
					if !strings.Contains(first, e[0]) {
						t.Fatalf("%q not in the file", e[0])
					}
					first = strings.Replace(first, e[0], e[1], 1)
				}
				in := two[:st] + first + second + strings.Replace(two[se:], "GE*1*", "GE*2*", 1)
				a := newAnswers()
				opts := a.options()
				opts.Profile = p
				var sets []SetResult
				opts.OnSet = func(s *SetResult) error {
					ss := *s
					ss.Hits = append([]Hit(nil), s.Hits...)
					sets = append(sets, ss)
					return nil
				}
				if _, err := Edit(context.Background(), strings.NewReader(in), opts); err != nil {
					t.Fatal(err)
				}
				for name, out := range a.all() {
					if err := validAnswer(out); out != "" && err != nil {
						t.Errorf("the %s %v\n%s", name, err, out)
					}
				}
				if len(sets) != 2 || sets[0].Status != ig.Rejected || sets[1].Status != ig.Accepted {
					t.Fatalf("sets %+v, want the first rejected and the second accepted", sets)
				}
				rejecting := false
				for _, h := range sets[0].Hits {
					rejecting = rejecting || h.Action == snip.RejectSet
				}
				if !rejecting {
					t.Errorf("no hit rejects the first set: %+v", sets[0].Hits)
				}
				ack, a277 := a.b999.String(), a.b277.String()
				ik5 := strings.Index(ack, "~IK5*R*")
				if i := strings.Index(ack, c.ik3); i < 0 || i > ik5 || !strings.Contains(ack, "~AK9*P*2*2*1~") {
					t.Errorf("999 lacks %q in the first set, or AK9 P:\n%s", c.ik3, ack)
				}
				if strings.Count(a277, "~ST*277*") != 1 || !strings.Contains(a277, "~TRN*2*ENC2001~STC*A2:20:PR*") ||
					!strings.Contains(a277, "~TRN*2*ENC2002~STC*A2:20:PR*") || strings.Contains(a277, "ENC1001") {
					t.Errorf("277CA does not answer the second set alone:\n%s", a277)
				}
			})
		}
	}
}

// TestEveryAnswerValidWhateverTheProfile: with a profile that warns on
// every edit, or makes every edit reject only its claim, each element of
// each segment of an 837P made empty, too long for any element, holding a
// character outside the X12 set or a date that is none, and each segment
// left out, still gets a 999, a 277CA and a TA1 that pass our own
// validator.
func TestEveryAnswerValidWhateverTheProfile(t *testing.T) {
	segs := strings.Split(twoClaims(t), "~\n")
	edit := func(p snip.Profile, in string, what string) {
		t.Helper()
		a := newAnswers()
		opts := a.options()
		opts.Profile = p
		if _, err := Edit(context.Background(), strings.NewReader(in), opts); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for name, out := range a.all() {
			if err := validAnswer(out); out != "" && err != nil {
				t.Errorf("%s: the %s %v\n%s", what, name, err, out)
			}
		}
	}
	for _, p := range []snip.Profile{everyEdit(t, "warn"), everyEdit(t, "reject_claim")} {
		// ST to SE, SE and the envelope aside.
		for i := 3; i < len(segs)-3; i++ {
			els := strings.Split(segs[i], "*")
			for e := 1; e <= len(els); e++ {
				for _, v := range []string{"", strings.Repeat("9", 81), "A\x01B", "20261309"} {
					c := append(append([]string(nil), els...), "")[:max(len(els), e+1)]
					c[e] = v
					in := append([]string(nil), segs...)
					in[i] = strings.TrimRight(strings.Join(c, "*"), "*")
					edit(p, strings.Join(in, "~\n"), fmt.Sprintf("%s, element %d %q", segs[i], e, v))
				}
			}
			in := append(append([]string(nil), segs[:i]...), segs[i+1:]...)
			edit(p, strings.Join(in, "~\n"), segs[i]+" left out")
		}
	}
}

// TestPatientIsNotTheOtherSubscriber: a claim's 2330A NM1*IL names the
// subscriber of another payer (under 2320), not the patient: the claim
// after it under the same subscriber is answered in the 277CA, and its
// encounter lines made, under 2010BA's name and member ID. The 277CA does
// not repeat 2330A's name, so a finding on it follows the partner's
// profile (here warn) and does not reject the set.
func TestPatientIsNotTheOtherSubscriber(t *testing.T) {
	base := twoClaims(t)
	// ENC1002 under RIVERA, after ENC1001 and its other payer.
	i, j := strings.Index(base, "HL*3*1*22*0~"), strings.Index(base, "CLM*ENC1002*")
	base = base[:i] + base[j:]
	base = strings.Replace(base, "HI*ABK:Z590*ABF:Z5941~\n", "HI*ABK:Z590*ABF:Z5941~\n"+
		"SBR*S*18*******CI~\nOI***Y***Y~\nNM1*IL*1*DOE*JOHN****MI*W11122233~\nNM1*PR*2*OTHER HEALTH PLAN*****PI*OTH01~\n", 1)
	base = strings.Replace(base, "SE*45*0001~", "SE*42*0001~", 1)
	warn := map[string]string{}
	for _, id := range []string{snip.SyntaxSegment, snip.SyntaxElement, snip.GuideSegment, snip.GuideElement, snip.SituationalSet} {
		warn[id] = "warn"
	}
	for _, c := range []struct {
		name      string
		last      string // 2330A NM103
		overrides map[string]string
	}{
		{"valid", "DOE", nil},
		{"other subscriber's last name of 61 characters, warned", "DOE" + strings.Repeat("E", 58), warn},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := strings.Replace(base, "NM1*IL*1*DOE*", "NM1*IL*1*"+c.last+"*", 1)
			p, err := snip.NewProfile(c.overrides)
			if err != nil {
				t.Fatal(err)
			}
			a := newAnswers()
			opts := a.options()
			opts.Profile = p
			type member struct{ cin, last, first string }
			got := map[string]member{}
			opts.OnClaim = func(c *Claim) error {
				got[c.ID] = member{c.Enc.MemberCIN, c.Enc.MemberLast, c.Enc.MemberFirst}
				return nil
			}
			if _, err := Edit(context.Background(), strings.NewReader(in), opts); err != nil {
				t.Fatal(err)
			}
			out := a.b277.String()
			if err := validAnswer(out); out == "" || err != nil {
				t.Fatalf("no valid 277CA (%v); the 999:\n%s", err, a.b999.String())
			}
			for _, id := range []string{"ENC1001", "ENC1002"} {
				if want := "~NM1*QC*1*RIVERA*ANA****MI*91234567A~TRN*2*" + id + "~STC*A2:20:PR*"; !strings.Contains(out, want) {
					t.Errorf("277CA lacks %q:\n%s", want, out)
				}
				if want := (member{"91234567A", "RIVERA", "ANA"}); got[id] != want {
					t.Errorf("%s: encounter member %+v, want %+v", id, got[id], want)
				}
			}
			if strings.Contains(out, "DOE") || strings.Contains(out, "W11122233") {
				t.Errorf("277CA names the other subscriber:\n%s", out)
			}
		})
	}
}
