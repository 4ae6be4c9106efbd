package inbound837

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// twoClaims is a valid 837P with claims ENC1001 (two lines, 300.00) and
// ENC1002 (one line, 75.50) for two subscribers of one billing provider.
func twoClaims(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/837p-two-claims.x12")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type numbers struct{ n int64 }

func (n *numbers) NextInterchange() (int64, error) { n.n++; return n.n, nil }
func (n *numbers) NextGroup() (int64, error)       { n.n++; return n.n, nil }
func (n *numbers) NextTransaction() (int64, error) { n.n++; return n.n, nil }

type outcome struct {
	sets     []SetResult
	claims   map[string]Claim
	ack999   string
	summary  Summary
	findings []string
}

func edit(t *testing.T, in string, p snip.Profile) outcome {
	t.Helper()
	var out outcome
	out.claims = map[string]Claim{}
	var buf bytes.Buffer
	w := x12.NewWriter(&buf, x12.DefaultDelimiters)
	a := ack.New999(w, &numbers{}, ack.WithClock(func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) }))
	sum, err := Edit(context.Background(), strings.NewReader(in), Options{
		Profile: p, Ack999: a,
		OnClaim: func(c *Claim) error {
			cc := *c
			cc.Hits = append([]Hit(nil), c.Hits...)
			out.claims[c.ID] = cc
			return nil
		},
		OnSet: func(s *SetResult) error {
			ss := *s
			ss.Hits = append([]Hit(nil), s.Hits...)
			out.sets = append(out.sets, ss)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	out.summary = sum
	out.ack999 = buf.String()
	// The 999 passes our own validator.
	_, err = ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { out.findings = append(out.findings, f.String()) }}).
		Validate(context.Background(), strings.NewReader(out.ack999))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.findings) > 0 {
		t.Errorf("the 999 fails validation: %v\n%s", out.findings, out.ack999)
	}
	return out
}

func hasEdit(hits []Hit, id string) bool {
	for _, h := range hits {
		if h.Edit == id {
			return true
		}
	}
	return false
}

// TestEditLevels edits a valid 837P and an invalid one per SNIP level.
func TestEditLevels(t *testing.T) {
	cases := []struct {
		name, from, to string
		edit           string
		set            ig.Status // IK501
		rejected       []string  // claims rejected (in the 277CA)
		ak9            string
	}{
		{"valid", "", "", "", ig.Accepted, nil, "AK9*A*1*1*1"},
		{"valid: a Canadian address (N402 a province, N404 CA)", "N4*SACRAMENTO*CA*95815~", "N4*TORONTO*ON*M5V2T6*CA~", "", ig.Accepted, nil, "AK9*A*1*1*1"},
		{"level 1 syntax: bad date", "DMG*D8*19800214*F", "DMG*D8*19801314*F", snip.SyntaxElement, ig.Rejected, []string{"ENC1001", "ENC1002"}, "AK9*R*1*1*0"},
		{"level 1 syntax: unknown segment", "DTP*454*D8*20260102~", "DTP*454*D8*20260102~ZZZ*1~", snip.SyntaxSegment, ig.Rejected, []string{"ENC1001", "ENC1002"}, "AK9*R*1*1*0"},
		{"level 2 guide: LX out of sequence", "LX*2~", "LX*3~", snip.GuideLineNumber, ig.Rejected, []string{"ENC1001", "ENC1002"}, "AK9*R*1*1*0"},
		{"level 4 situational: SBR02 missing though the subscriber is the patient", "SBR*P*18*******MC", "SBR*P********MC", snip.SituationalSet, ig.Rejected, []string{"ENC1001", "ENC1002"}, "AK9*R*1*1*0"},
		{"level 4 situational: 2010BA N4 missing though the subscriber is the patient", "N4*SACRAMENTO*CA*95815~\nDMG*D8*19800214*F~", "DMG*D8*19800214*F~\nREF*SY*123456789~", snip.SituationalSet, ig.Rejected, []string{"ENC1001", "ENC1002"}, "AK9*R*1*1*0"},
		{"level 4 situational: replacement without REF*F8", "CLM*ENC1002*75.5***12:B:1*", "CLM*ENC1002*75.5***12:B:7*", snip.SituationalPayerClaim, ig.Accepted, []string{"ENC1002"}, "AK9*A*1*1*1"},
		{"level 3 balancing: CLM02", "CLM*ENC1001*300*", "CLM*ENC1001*301*", snip.BalanceClaimTotal, ig.Accepted, []string{"ENC1001"}, "AK9*A*1*1*1"},
		{"level 5 HCPCS shape", "HC:T1016:U8", "HC:T1X16:U8", snip.CodeHCPCS, ig.Accepted, []string{"ENC1002"}, "AK9*A*1*1*1"},
		{"level 5 ICD-10-CM shape", "HI*ABK:Z5900", "HI*ABK:5Z900", snip.CodeICD10, ig.Accepted, []string{"ENC1002"}, "AK9*A*1*1*1"},
		{"level 5 place of service", "CLM*ENC1002*75.5***12:B:1", "CLM*ENC1002*75.5***30:B:1", snip.CodePOS, ig.Accepted, []string{"ENC1002"}, "AK9*A*1*1*1"},
		{"level 1: CLM05-2 not the guide's code (not a place of service)", "CLM*ENC1002*75.5***12:B:1", "CLM*ENC1002*75.5***12:X:1", snip.SyntaxElement, ig.Rejected, []string{"ENC1001", "ENC1002"}, "AK9*R*1*1*0"},
		{"level 5 NPI check digit (billing provider)", "XX*1234567893", "XX*1234567890", snip.CodeNPI, ig.Rejected, []string{"ENC1001", "ENC1002"}, "AK9*R*1*1*0"},
		{"level 5 ZIP", "N4*WEST SACRAMENTO*CA*95691", "N4*WEST SACRAMENTO*CA*9569", snip.CodeZIP, ig.Rejected, []string{"ENC1001", "ENC1002"}, "AK9*R*1*1*0"},
	}
	base := twoClaims(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := base
			if c.from != "" {
				if !strings.Contains(in, c.from) {
					t.Fatalf("%q not in the file", c.from)
				}
				in = strings.Replace(in, c.from, c.to, 1)
			}
			o := edit(t, in, snip.Profile{})
			if len(o.sets) != 1 || o.sets[0].Status != c.set {
				t.Fatalf("sets %+v, want one %c", o.sets, c.set)
			}
			var all []Hit
			all = append(all, o.sets[0].Hits...)
			var rej []string
			for _, id := range []string{"ENC1001", "ENC1002"} {
				cl, ok := o.claims[id]
				if !ok {
					t.Fatalf("claim %s not reported", id)
				}
				all = append(all, cl.Hits...)
				if cl.Rejected {
					rej = append(rej, id)
				}
			}
			if c.edit == "" && len(all) > 0 {
				t.Errorf("valid file: hits %+v", all)
			}
			if c.edit != "" && !hasEdit(all, c.edit) {
				t.Errorf("edit %s not found in %+v", c.edit, all)
			}
			if strings.Join(rej, ",") != strings.Join(c.rejected, ",") {
				t.Errorf("rejected claims %v, want %v", rej, c.rejected)
			}
			if !strings.Contains(o.ack999, "IK5*"+string(c.set)) || !strings.Contains(o.ack999, c.ak9) {
				t.Errorf("999 lacks IK5*%c or %s:\n%s", c.set, c.ak9, o.ack999)
			}
			if c.set == ig.Rejected && !strings.Contains(o.ack999, "IK3*") {
				t.Errorf("rejected set without IK3:\n%s", o.ack999)
			}
		})
	}
}

// TestCodeListOutsideClaims: a state code the validator's code list and
// the scanner both reject, in a subscriber's address (2010BA, before the
// subscriber's claim and after the previous subscriber's), concerns every
// claim under it: by default it rejects the set, and the 999 says so once,
// at that N4 (IK4*2*156*7); no claim carries it as its own hit.
func TestCodeListOutsideClaims(t *testing.T) {
	cases := []struct{ name, from, to, ik3 string }{
		{"first subscriber", "SACRAMENTO*CA*95815~", "SACRAMENTO*QQ*95815~", "~IK3*N4*17*2010BA*8~IK4*2*156*7*QQ~IK5*R*5~"},
		{"second subscriber", "WEST SACRAMENTO*CA*", "WEST SACRAMENTO*QQ*", "~IK3*N4*36*2010BA*8~IK4*2*156*7*QQ~IK5*R*5~"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := twoClaims(t)
			if !strings.Contains(in, c.from) {
				t.Fatalf("%q not in the file", c.from)
			}
			o := edit(t, strings.Replace(in, c.from, c.to, 1), snip.Profile{})
			if strings.Count(o.ack999, c.ik3) != 1 || strings.Count(o.ack999, "~IK4*") != 1 {
				t.Errorf("999 lacks %q once (or has another IK4):\n%s", c.ik3, o.ack999)
			}
			if len(o.sets) != 1 || o.sets[0].Status != ig.Rejected || !hasEdit(o.sets[0].Hits, snip.CodeState) {
				t.Errorf("sets %+v, want one rejected for %s", o.sets, snip.CodeState)
			}
			for id, cl := range o.claims {
				if !cl.Rejected || len(cl.Hits) > 0 {
					t.Errorf("claim %s: rejected %v, hits %+v; want rejected with the set, no hit of its own", id, cl.Rejected, cl.Hits)
				}
			}
		})
	}
}

// A segment or loop the guide requires that is found missing when the
// next claim begins is the claim before's: the 999's CTX names it, and
// with a partner profile that rejects the claim for it, that claim is
// rejected and the next one accepted, unless the claim is left without
// any service date (no 2400 at all): the 277CA could not answer it (2200D
// DTP*472 is required), so the set is rejected.
func TestMissingLoopBelongsToTheClaimBefore(t *testing.T) {
	cases := []struct {
		name, from, charge string
		set                ig.Status // with reject_claim
	}{
		{"SV1 and DTP*472 of its second line", "SV1*HC:G9012", "200", ig.Accepted},
		{"every service line (2400)", "LX*1~\nSV1*HC:T2040", "0", ig.Rejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := twoClaims(t)
			// ENC1002 moves under ENC1001's subscriber, and ENC1001 loses
			// what it has from c.from on and, to balance, some charge.
			start, end := strings.Index(in, c.from), strings.Index(in, "CLM*ENC1002")
			if start < 0 || end < 0 {
				t.Fatal("fixture changed")
			}
			in = in[:start] + in[end:]
			in = strings.Replace(in, "CLM*ENC1001*300***", "CLM*ENC1001*"+c.charge+"***", 1)
			st, se := strings.Index(in, "ST*837"), strings.Index(in, "SE*")
			in = strings.Replace(in, "SE*45*0001", fmt.Sprintf("SE*%d*0001", strings.Count(in[st:se], "~")+1), 1)
			if o := edit(t, in, snip.Profile{}); !strings.Contains(o.ack999, "*2400*3~CTX*CLM01:ENC1001~") ||
				strings.Contains(o.ack999, "CTX*CLM01:ENC1002") || !strings.Contains(o.ack999, "~IK5*R*5~") {
				t.Errorf("999 of the default profile names another claim for the missing 2400, or does not reject the set:\n%s", o.ack999)
			}
			p, err := snip.NewProfile(map[string]string{snip.SyntaxSegment: "reject_claim"})
			if err != nil {
				t.Fatal(err)
			}
			o := edit(t, in, p)
			if len(o.sets) != 1 || o.sets[0].Status != c.set {
				t.Fatalf("sets %+v, want one %c", o.sets, c.set)
			}
			if c, ok := o.claims["ENC1001"]; !ok || !c.Rejected {
				t.Errorf("ENC1001: %+v, want rejected for its missing 2400", c)
			}
			a277 := write277(t, in, p) // passes the validator
			if c.set == ig.Rejected {
				if a277 != "" || !strings.Contains(o.ack999, "*2400*3~CTX*CLM01:ENC1001~") {
					t.Errorf("999 does not name ENC1001, or a 277CA:\n%s\n%s", o.ack999, a277)
				}
				return
			}
			if c, ok := o.claims["ENC1002"]; !ok || c.Rejected {
				t.Errorf("ENC1002: %+v, want accepted", c)
			}
			if !strings.Contains(a277, "~TRN*2*ENC1001~STC*A7:21*") || !strings.Contains(a277, "~TRN*2*ENC1002~STC*A2:20:PR*") {
				t.Errorf("277CA:\n%s", a277)
			}
		})
	}
}

// TestErrorBeyondMaxFindings: a set with more findings than the
// validator keeps (1,000 warnings: a partner that warns on the HCPCS
// shape, and 1,001 claims with a bad one) whose X12 syntax error (an
// invalid date in the last claim) comes after them is rejected, as that
// error rejects it: no claim of it is accepted.
func TestErrorBeyondMaxFindings(t *testing.T) {
	base := twoClaims(t)
	head := base[:strings.Index(base, "HL*2*1*22*0~")]
	var b strings.Builder
	b.WriteString(head)
	const n = 1001
	segs := strings.Count(head[strings.Index(head, "ST*"):], "~")
	for i := range n {
		date := "20260109"
		if i == n-1 {
			date = "20261309"
		}
		fmt.Fprintf(&b, "HL*%d*1*22*0~SBR*P*18*******MC~NM1*IL*1*NGUYEN*BAO****MI*98765432B~N3*45 ELM ST~"+
			"N4*WEST SACRAMENTO*CA*95691~DMG*D8*19671130*M~NM1*PR*2*SUNRISE HEALTH PLAN*****PI*SHP01~"+
			"CLM*C%d*75.5***12:B:1*Y*A*Y*Y~HI*ABK:Z5900~LX*1~SV1*HC:T1X16:U8*75.50*UN*3***1~DTP*472*D8*%s~", i+2, i, date)
		segs += 12
	}
	fmt.Fprintf(&b, "SE*%d*0001~GE*1*101~IEA*1*000000101~", segs+1)
	p, err := snip.NewProfile(map[string]string{snip.CodeHCPCS: "warn"})
	if err != nil {
		t.Fatal(err)
	}
	o := edit(t, b.String(), p)
	if len(o.sets) != 1 || o.sets[0].Status != ig.Rejected || o.summary.ClaimsRejected != n {
		t.Errorf("sets %+v, %d of %d claims rejected; want the set rejected with every claim", o.sets, o.summary.ClaimsRejected, n)
	}
	if !strings.Contains(o.ack999, "~IK5*R*") || !strings.Contains(o.ack999, "~AK9*R*1*1*0~") {
		t.Errorf("999 does not reject the set:\n%s", o.ack999[strings.Index(o.ack999, "~IK5"):])
	}
}

// TestPartnerOverride: a partner whose profile warns on ZIP edits gets the
// set accepted with errors; one that rejects the set on balancing gets the
// whole set rejected with the CLM02 in IK3/IK4.
func TestPartnerOverride(t *testing.T) {
	base := twoClaims(t)
	badZIP := strings.Replace(base, "CA*95691", "CA*9569", 1)
	warn, err := snip.NewProfile(map[string]string{snip.CodeZIP: "warn"})
	if err != nil {
		t.Fatal(err)
	}
	o := edit(t, badZIP, warn)
	if o.sets[0].Status != ig.AcceptedWithErrors || o.summary.ClaimsRejected != 0 {
		t.Errorf("ZIP as warning: set %c, %d claims rejected; want E and 0", o.sets[0].Status, o.summary.ClaimsRejected)
	}
	if !strings.Contains(o.ack999, "AK9*E*1*1*1") {
		t.Errorf("999 should accept with errors:\n%s", o.ack999)
	}

	unbalanced := strings.Replace(base, "CLM*ENC1001*300*", "CLM*ENC1001*301*", 1)
	strict, err := snip.NewProfile(map[string]string{snip.BalanceClaimTotal: "reject_set"})
	if err != nil {
		t.Fatal(err)
	}
	o = edit(t, unbalanced, strict)
	if o.sets[0].Status != ig.Rejected || o.summary.ClaimsRejected != 2 {
		t.Errorf("balancing rejects the set: set %c, %d claims rejected; want R and 2", o.sets[0].Status, o.summary.ClaimsRejected)
	}
	if !strings.Contains(o.ack999, "IK3*CLM*") || !strings.Contains(o.ack999, "IK4*2*782*I12~") {
		t.Errorf("999 should point at CLM02:\n%s", o.ack999)
	}
}

// TestValidatorFindingRejectingAClaim: a finding of the validator the
// partner's profile makes reject_claim rejects the claim whose loops
// (2300, 2400) hold it, and no other; outside any claim (a subscriber's
// loop, even one after another subscriber's claim) it concerns every claim
// under it and rejects the set, with its IK3 in the 999.
func TestValidatorFindingRejectingAClaim(t *testing.T) {
	p, err := snip.NewProfile(map[string]string{snip.SyntaxElement: "reject_claim"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, from, to string
		set            ig.Status
		rejected       []string // claims rejected
		ack            string   // in the 999
	}{
		{"2300 DTP of the first claim", "DTP*454*D8*20260102~", "DTP*454*D8*20261302~", ig.Accepted, []string{"ENC1001"}, "~IK5*A~"},
		{"first subscriber's DMG", "DMG*D8*19800214*F", "DMG*D8*19801314*F", ig.Rejected, []string{"ENC1001", "ENC1002"},
			"~IK3*DMG*18*2010BA*8~IK4*2*1251*8*19801314~IK5*R*5~"},
		{"second subscriber's DMG, after the first claim", "DMG*D8*19671130*M", "DMG*D8*19671330*M", ig.Rejected, []string{"ENC1001", "ENC1002"},
			"~IK3*DMG*37*2010BA*8~IK4*2*1251*8*19671330~IK5*R*5~"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := twoClaims(t)
			if !strings.Contains(in, c.from) {
				t.Fatalf("%q not in the file", c.from)
			}
			o := edit(t, strings.Replace(in, c.from, c.to, 1), p)
			if len(o.sets) != 1 || o.sets[0].Status != c.set {
				t.Errorf("sets %+v, want one %c", o.sets, c.set)
			}
			var rejected []string
			for _, id := range []string{"ENC1001", "ENC1002"} {
				if o.claims[id].Rejected {
					rejected = append(rejected, id)
				}
			}
			if strings.Join(rejected, " ") != strings.Join(c.rejected, " ") {
				t.Errorf("claims rejected %v, want %v", rejected, c.rejected)
			}
			if !strings.Contains(o.ack999, c.ack) {
				t.Errorf("999 lacks %q:\n%s", c.ack, o.ack999)
			}
		})
	}
}

// TestLevel6DHCSCoding: with the DHCS ECM/CS coding table, a line billed
// with a code and modifiers the table does not list on the date of service
// rejects its claim (G9012 is ECM only with U8, U1 or U2); the same claim
// with G9012 U8 is accepted.
func TestLevel6DHCSCoding(t *testing.T) {
	base := twoClaims(t)
	run := func(in string) map[string]Claim {
		claims := map[string]Claim{}
		_, err := Edit(context.Background(), strings.NewReader(in), Options{Coding: rules.DefaultCodingTable(),
			OnClaim: func(c *Claim) error {
				cc := *c
				cc.Hits = append([]Hit(nil), c.Hits...)
				claims[c.ID] = cc
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		return claims
	}
	bad := run(base)
	if c := bad["ENC1001"]; !c.Rejected || !hasEdit(c.Hits, snip.DHCSCode) || c.Hits[0].Text != "SV1*HC:G9012*100*UN*1*11**1" {
		t.Errorf("G9012 without modifier: %+v", c)
	}
	if c := bad["ENC1002"]; c.Rejected {
		t.Errorf("T1016 U8 on 2026-01-09 rejected: %+v", c)
	}
	good := run(strings.Replace(base, "SV1*HC:G9012*", "SV1*HC:G9012:U8*", 1))
	for id, c := range good {
		if c.Rejected || len(c.Hits) > 0 {
			t.Errorf("%s: %+v", id, c)
		}
	}
	early := run(strings.Replace(strings.Replace(base, "SV1*HC:G9012*", "SV1*HC:G9012:U8*", 1), "DTP*472*D8*20260109", "DTP*472*D8*20251231", 1))
	if c := early["ENC1002"]; !c.Rejected || !hasEdit(c.Hits, snip.DHCSCode) {
		t.Errorf("T1016 U8 the day before it is in force: %+v", c)
	}
}

// TestScannerEditsInThe999: a scanner edit the partner rejects the set
// for is reported in the 999 as the guide's rule it fails: IK403 I12
// (implementation pattern match failure) for a rule of the guide (NPI
// check digit, ZIP shape, CLM02 balance, LX01 sequence, HCPCS and ICD-10
// shapes), 7 for a value not in its external code list (place of service,
// state), I6 for a code the DHCS table does not use; IK402 the data
// element's reference number, IK401-2 the component; IK502 I5 when only
// rules of the guide fail, 5 when an X12 syntax error does too.
func TestScannerEditsInThe999(t *testing.T) {
	cases := []struct {
		name, edit, from, to, want, ik5 string
	}{
		{"NPI check digit", snip.CodeNPI, "XX*1234567893~", "XX*1234567890~", "IK4*9*67*I12", "IK5*R*I5~"},
		{"ZIP", snip.CodeZIP, "CA*95691~", "CA*9569~", "IK4*3*116*I12", "IK5*R*I5~"},
		{"CLM02 balance", snip.BalanceClaimTotal, "CLM*ENC1001*300*", "CLM*ENC1001*301*", "IK4*2*782*I12", "IK5*R*I5~"},
		{"LX01 sequence", snip.GuideLineNumber, "LX*2~", "LX*3~", "IK4*1*554*I12", "IK5*R*I5~"},
		{"HCPCS shape", snip.CodeHCPCS, "SV1*HC:T1016:U8*", "SV1*HC:T1X16:U8*", "IK4*1:2*234*I12", "IK5*R*I5~"},
		{"ICD-10 shape", snip.CodeICD10, "HI*ABK:Z5900~", "HI*ABK:59Z~", "IK4*1:2*1271*I12", "IK5*R*I5~"},
		{"state (the validator's code list too)", snip.CodeState, "WEST SACRAMENTO*CA*", "WEST SACRAMENTO*QQ*", "IK4*2*156*7", "IK5*R*5~"},
		{"place of service (the validator's code list too)", snip.CodePOS, "*12:B:1*", "*30:B:1*", "IK4*5:1*1331*7", "IK5*R*5~"},
		{"CLM02 balance and a bad date", snip.BalanceClaimTotal, "CLM*ENC1001*300*", "CLM*ENC1001*301*", "IK4*2*782*I12", "IK5*R*5~"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := twoClaims(t)
			if !strings.Contains(in, c.from) {
				t.Fatalf("%q not in the file", c.from)
			}
			in = strings.Replace(in, c.from, c.to, 1)
			if strings.Contains(c.name, "bad date") {
				in = strings.Replace(in, "DMG*D8*19800214*F", "DMG*D8*19801314*F", 1)
			}
			p, err := snip.NewProfile(map[string]string{c.edit: "reject_set"})
			if err != nil {
				t.Fatal(err)
			}
			o := edit(t, in, p)
			if strings.Count(o.ack999, "~"+c.want) != 1 || !strings.Contains(o.ack999, c.ik5) {
				t.Errorf("999 lacks %s (or has it twice) or %s:\n%s", c.want, c.ik5, o.ack999)
			}
			if len(o.findings) > 0 {
				t.Errorf("999 fails validation: %v", o.findings)
			}
		})
	}
}

// TestCodeListEditsReportedOnce: a place of service or state that both
// the scanner and the validator's code list reject is one edit of its
// claim or set, once in the report as in the 999, whatever the action.
func TestCodeListEditsReportedOnce(t *testing.T) {
	cases := []struct {
		name, from, to, edit, action string
		claim                        string // the claim holding the edit, "" for the set
	}{
		{"subscriber state rejecting the set", "WEST SACRAMENTO*CA*", "WEST SACRAMENTO*QQ*", snip.CodeState, "reject_claim", ""},
		{"subscriber state warned", "WEST SACRAMENTO*CA*", "WEST SACRAMENTO*QQ*", snip.CodeState, "warn", ""},
		{"claim's place of service", "CLM*ENC1002*75.5***12:B:1", "CLM*ENC1002*75.5***98:B:1", snip.CodePOS, "reject_claim", "ENC1002"},
		{"claim's place of service warned", "CLM*ENC1002*75.5***12:B:1", "CLM*ENC1002*75.5***98:B:1", snip.CodePOS, "warn", "ENC1002"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := twoClaims(t)
			if !strings.Contains(in, c.from) {
				t.Fatalf("%q not in the file", c.from)
			}
			p, err := snip.NewProfile(map[string]string{c.edit: c.action})
			if err != nil {
				t.Fatal(err)
			}
			o := edit(t, strings.Replace(in, c.from, c.to, 1), p)
			var hits []Hit
			if c.claim == "" {
				hits = o.sets[0].Hits
			} else {
				hits = o.claims[c.claim].Hits
				for _, h := range o.sets[0].Hits {
					if h.Edit == c.edit {
						hits = append(hits, h)
					}
				}
			}
			n := 0
			for _, h := range hits {
				if h.Edit == c.edit {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d %s hits, want 1: %+v", n, c.edit, hits)
			}
		})
	}
}

// TestSetErrorInIK5: an error of the transaction set itself (SE01 not
// its count, SE02 not its ST02) is its IK502 code whether the partner's
// profile rejects the set for it or warns: a warning is noted as the
// error is, so that the sender sees which it was.
func TestSetErrorInIK5(t *testing.T) {
	cases := []struct {
		name, to, action, want string
	}{
		{"SE01 rejected", "SE*44*0001~", "reject_set", "~IK5*R*4~AK9*R*1*1*0~"},
		{"SE01 warned", "SE*44*0001~", "warn", "~IK5*E*4~AK9*E*1*1*1~"},
		{"SE02 rejected", "SE*45*0002~", "reject_set", "~IK5*R*3~AK9*R*1*1*0~"},
		{"SE02 warned", "SE*45*0002~", "warn", "~IK5*E*3~AK9*E*1*1*1~"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := snip.NewProfile(map[string]string{snip.SyntaxEnvelope: c.action})
			if err != nil {
				t.Fatal(err)
			}
			o := edit(t, strings.Replace(twoClaims(t), "SE*45*0001~", c.to, 1), p)
			if !strings.Contains(o.ack999, c.want) {
				t.Errorf("999 lacks %q:\n%s", c.want, o.ack999)
			}
		})
	}
}

// TestWarnedScannerEditsInThe999: a scanner edit the partner's profile
// turns into a warning is reported in the 999 as a validator warning is:
// its IK3 (segment position, loop, CTX*CLM01 inside a claim) and IK4
// (element position, reference number, the IK403 code the edit is
// reported with when it rejects the set), IK5 E with IK502 I5 (only
// rules of the guide noted) or 5 (an X12 syntax error noted), AK9 E; no
// claim is rejected.
func TestWarnedScannerEditsInThe999(t *testing.T) {
	cases := []struct {
		name, edit, from, to string
		want                 []string
	}{
		{"subscriber ZIP, outside any claim", snip.CodeZIP, "CA*95691~", "CA*9569~",
			[]string{"~IK3*N4*36*2010BA*8~IK4*3*116*I12~IK5*E*I5~AK9*E*1*1*1~"}},
		{"billing provider NPI, outside any claim", snip.CodeNPI, "XX*1234567893~", "XX*1234567890~",
			[]string{"~IK3*NM1*8*2010AA*8~IK4*9*67*I12~IK5*E*I5~AK9*E*1*1*1~"}},
		{"HCPCS shape, inside a claim", snip.CodeHCPCS, "SV1*HC:T1016:U8*", "SV1*HC:T1X16:U8*",
			[]string{"*2400*8~CTX*CLM01:ENC1002~IK4*1:2*234*I12~IK5*E*I5~AK9*E*1*1*1~"}},
		{"CLM02 balance, inside a claim", snip.BalanceClaimTotal, "CLM*ENC1001*300*", "CLM*ENC1001*301*",
			[]string{"~IK3*CLM*20*2300*8~CTX*CLM01:ENC1001~IK4*2*782*I12~IK5*E*I5~AK9*E*1*1*1~"}},
		{"state (the validator's code list too)", snip.CodeState, "WEST SACRAMENTO*CA*", "WEST SACRAMENTO*QQ*",
			[]string{"~IK3*N4*36*2010BA*8~IK4*2*156*7*QQ~IK5*E*5~AK9*E*1*1*1~"}},
		{"a validator finding warned the same way", snip.SyntaxElement, "DMG*D8*19800214*F", "DMG*D8*19801314*F",
			[]string{"~IK3*DMG*18*2010BA*8~IK4*2*1251*8*19801314~IK5*E*5~AK9*E*1*1*1~"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := twoClaims(t)
			if !strings.Contains(in, c.from) {
				t.Fatalf("%q not in the file", c.from)
			}
			in = strings.Replace(in, c.from, c.to, 1)
			p, err := snip.NewProfile(map[string]string{c.edit: "warn"})
			if err != nil {
				t.Fatal(err)
			}
			o := edit(t, in, p) // the 999 passes our own validator
			for _, w := range c.want {
				if strings.Count(o.ack999, w) != 1 {
					t.Errorf("999 lacks %q (or has it twice):\n%s", w, o.ack999)
				}
			}
			if strings.Count(o.ack999, "~IK4*") != 1 {
				t.Errorf("want one IK4:\n%s", o.ack999)
			}
			if len(o.sets) != 1 || o.sets[0].Status != ig.AcceptedWithErrors || o.summary.ClaimsRejected != 0 {
				t.Errorf("sets %+v, %d claims rejected; want one E and none", o.sets, o.summary.ClaimsRejected)
			}
		})
	}
}

// TestReplacementWithoutPayerClaimNumber: a replacement or void (2300
// CLM05-3 7 or 8) without 2300 REF*F8 (Payer Claim Control Number, which
// the guide requires then) fails SNIP4-CLM05-REF-F8 in the edit, with no
// judge. By default its claim is rejected (277CA A7:21) and the set
// accepted, the other claim going on; a partner that rejects the set for
// it gets the guide's implementation dependent segment missing in the 999
// (IK3*REF at the claim's CLM, loop 2300, IK304 I6, with the claim's
// CTX), one that warns the same IK3 with IK5 E. A REF*F8 counts for its
// own claim only.
func TestReplacementWithoutPayerClaimNumber(t *testing.T) {
	const (
		orig2 = "CLM*ENC1002*75.5***12:B:1*Y*A*Y*Y~"
		repl2 = "CLM*ENC1002*75.5***12:B:7*Y*A*Y*Y~"
		f8    = "REF*F8*000000001000001~"
	)
	cases := []struct {
		name     string
		edits    [][2]string // replacements made in the file
		action   string      // the partner's action for the edit, "" for the default
		want     []string    // in the 999
		rejected []string    // claims rejected
		hit      []string    // claims with the edit
	}{
		{"replacement", [][2]string{{orig2, repl2}}, "",
			[]string{"IK5*A~AK9*A*1*1*1~"}, []string{"ENC1002"}, []string{"ENC1002"}},
		{"void", [][2]string{{orig2, "CLM*ENC1002*75.5***12:B:8*Y*A*Y*Y~"}}, "",
			[]string{"IK5*A~AK9*A*1*1*1~"}, []string{"ENC1002"}, []string{"ENC1002"}},
		{"replacement with REF*F8", [][2]string{{orig2, repl2 + f8}, {"SE*45*", "SE*46*"}}, "",
			[]string{"IK5*A~AK9*A*1*1*1~"}, nil, nil},
		{"original", nil, "", []string{"IK5*A~AK9*A*1*1*1~"}, nil, nil},
		{"REF*F8 of the claim before", [][2]string{{"11:B:1*Y*A*Y*Y~", "11:B:7*Y*A*Y*Y~"}, {"REF*D9*CLMREF1001~", f8 + "REF*D9*CLMREF1001~"}, {orig2, repl2}, {"SE*45*", "SE*46*"}}, "",
			[]string{"IK5*A~AK9*A*1*1*1~"}, []string{"ENC1002"}, []string{"ENC1002"}},
		{"set rejected", [][2]string{{orig2, repl2}}, "reject_set",
			[]string{"~IK3*REF*39*2300*I6~CTX*CLM01:ENC1002~IK5*R*I5~AK9*R*1*1*0~"}, []string{"ENC1001", "ENC1002"}, nil},
		{"warned", [][2]string{{orig2, repl2}}, "warn",
			[]string{"~IK3*REF*39*2300*I6~CTX*CLM01:ENC1002~IK5*E*I5~AK9*E*1*1*1~"}, nil, []string{"ENC1002"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := twoClaims(t)
			for _, e := range c.edits {
				if !strings.Contains(in, e[0]) {
					t.Fatalf("%q not in the file", e[0])
				}
				in = strings.Replace(in, e[0], e[1], 1)
			}
			p := snip.Profile{}
			if c.action != "" {
				var err error
				if p, err = snip.NewProfile(map[string]string{snip.SituationalPayerClaim: c.action}); err != nil {
					t.Fatal(err)
				}
			}
			o := edit(t, in, p) // the 999 passes our own validator
			for _, w := range c.want {
				if strings.Count(o.ack999, w) != 1 {
					t.Errorf("999 lacks %q (or has it twice):\n%s", w, o.ack999)
				}
			}
			var rej, hit []string
			for _, id := range []string{"ENC1001", "ENC1002"} {
				cl := o.claims[id]
				if cl.Rejected {
					rej = append(rej, id)
				}
				if hasEdit(cl.Hits, snip.SituationalPayerClaim) {
					hit = append(hit, id)
				}
			}
			if c.action == "reject_set" && !hasEdit(o.sets[0].Hits, snip.SituationalPayerClaim) {
				t.Errorf("set hits %+v", o.sets[0].Hits)
			}
			if strings.Join(rej, ",") != strings.Join(c.rejected, ",") || strings.Join(hit, ",") != strings.Join(c.hit, ",") {
				t.Errorf("rejected %v, with the edit %v; want %v and %v", rej, hit, c.rejected, c.hit)
			}
			if c.action == "" && len(c.hit) > 0 {
				a277 := write277(t, in, p)
				if !strings.Contains(a277, "TRN*2*ENC1002~STC*A7:21*") || !strings.Contains(a277, "TRN*2*ENC1001~STC*A2:20:PR*") {
					t.Errorf("277CA:\n%s", a277)
				}
			}
		})
	}
}
