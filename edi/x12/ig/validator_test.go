package ig_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/internal/x12test"
)

// result is everything a validation reported, copied out of the callbacks.
type result struct {
	sum          ig.Summary
	err          error
	findings     []ig.Finding
	transactions []ig.TransactionResult
	groups       []ig.GroupResult
	interchanges []ig.InterchangeResult
}

func validate(t *testing.T, in string, opts ig.Options) result {
	t.Helper()
	var res result
	opts.OnFinding = func(f *ig.Finding) { res.findings = append(res.findings, *f) }
	opts.OnTransaction = func(tr *ig.TransactionResult) error {
		c := *tr
		c.Findings = slices.Clone(tr.Findings)
		c.Codes = slices.Clone(tr.Codes)
		res.transactions = append(res.transactions, c)
		return nil
	}
	opts.OnGroup = func(g *ig.GroupResult) error {
		c := *g
		c.Codes = slices.Clone(g.Codes)
		c.Findings = slices.Clone(g.Findings)
		res.groups = append(res.groups, c)
		return nil
	}
	opts.OnInterchange = func(ir *ig.InterchangeResult) error {
		c := *ir
		c.Findings = slices.Clone(ir.Findings)
		res.interchanges = append(res.interchanges, c)
		return nil
	}
	res.sum, res.err = ig.NewValidator(opts).Validate(context.Background(), strings.NewReader(in))
	return res
}

// key names a finding by what the acknowledgments carry: level/code,
// segment, loop, position in the set, element and component.
func key(f ig.Finding) string {
	lv := map[ig.Level]string{ig.LevelInterchange: "TA1", ig.LevelGroup: "AK9", ig.LevelTransaction: "IK5", ig.LevelSegment: "IK3", ig.LevelElement: "IK4"}[f.Level]
	parts := []string{lv + "/" + f.Code}
	if f.Segment != "" {
		parts = append(parts, f.Segment)
	}
	if f.Loop != "" {
		parts = append(parts, f.Loop)
	}
	if f.SetPos > 0 {
		parts = append(parts, fmt.Sprintf("@%d", f.SetPos))
	}
	if f.Element > 0 {
		e := fmt.Sprintf("e%d", f.Element)
		if f.Component > 0 {
			e += fmt.Sprintf(".%d", f.Component)
		}
		parts = append(parts, e)
	}
	return strings.Join(parts, " ")
}

func keys(fs []ig.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, key(f))
	}
	slices.Sort(out)
	return out
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/x12/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// lines splits a one-segment-per-line file; join puts it back and, unless
// keepSE, recomputes SE01 so that an edit does not also break the count.
func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func join(ls []string, keepSE bool) string {
	if !keepSE {
		st := -1
		for i, l := range ls {
			if strings.HasPrefix(l, "ST*") {
				st = i
			}
			if strings.HasPrefix(l, "SE*") && st >= 0 {
				f := strings.Split(strings.TrimSuffix(l, "~"), "*")
				f[1] = fmt.Sprint(i - st + 1)
				ls[i] = strings.Join(f, "*") + "~"
				st = -1
			}
		}
	}
	return strings.Join(ls, "\n") + "\n"
}

// Edits on the clean 837P, by 1-based line (= segment ordinal).
func replace(n int, seg string) func([]string) []string {
	return func(ls []string) []string { ls[n-1] = seg; return ls }
}
func remove(n int) func([]string) []string {
	return func(ls []string) []string { return slices.Delete(ls, n-1, n) }
}
func insertAfter(n int, segs ...string) func([]string) []string {
	return func(ls []string) []string { return slices.Insert(ls, n, segs...) }
}

func TestCleanFiles(t *testing.T) {
	for _, name := range []string{"837p-clean.x12", "837p-patient.x12", "834-clean.x12", "277ca-clean.x12"} {
		t.Run(name, func(t *testing.T) {
			in := readTestdata(t, name)
			res := validate(t, in, ig.Options{})
			if res.err != nil || len(res.findings) != 0 {
				t.Fatalf("err %v, findings %v", res.err, keys(res.findings))
			}
			if res.sum.Transactions != 1 || res.sum.Accepted != 1 || res.sum.Interchanges != 1 || res.sum.Groups != 1 {
				t.Errorf("summary %+v", res.sum)
			}
			if len(res.transactions) != 1 || res.transactions[0].Status != ig.Accepted || res.transactions[0].Spec == nil {
				t.Errorf("transaction %+v", res.transactions)
			}
			if g := res.groups[0]; g.Status != ig.Accepted || g.Included != 1 || g.Received != 1 || g.Accepted != 1 {
				t.Errorf("group %+v", g)
			}
			if ir := res.interchanges[0]; ir.Status != ig.Accepted || ir.Note != ig.NoteNone {
				t.Errorf("interchange %+v", ir)
			}
		})
	}
}

// The same transaction in other layouts and delimiters stays clean.
func TestCleanInOtherLayouts(t *testing.T) {
	in := readTestdata(t, "837p-clean.x12")
	swap := strings.NewReplacer("*", "|", ":", "^", "^", "!", "~", "\r\n") // element, component, repetition, terminator
	variants := map[string]string{
		"one line":   strings.ReplaceAll(in, "\n", ""),
		"CRLF":       strings.ReplaceAll(in, "\n", "\r\n"),
		"delimiters": swap.Replace(strings.ReplaceAll(in, "\n", "")),
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			res := validate(t, v, ig.Options{})
			if res.err != nil || len(res.findings) != 0 || res.sum.Accepted != 1 {
				t.Fatalf("err %v findings %v sum %+v", res.err, keys(res.findings), res.sum)
			}
		})
	}
}

func TestGenerated837PIsClean(t *testing.T) {
	var b bytes.Buffer
	if _, err := (x12test.Gen837P{Claims: 2500, ClaimsPerSet: 1000, Newlines: true, Seed: 7}).WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	res := validate(t, b.String(), ig.Options{})
	if res.err != nil || len(res.findings) != 0 || res.sum.Accepted != 3 {
		t.Fatalf("err %v findings %v sum %+v", res.err, keys(res.findings[:min(10, len(res.findings))]), res.sum)
	}
}

func TestFindings837P(t *testing.T) {
	clean := lines(readTestdata(t, "837p-clean.x12"))
	tests := []struct {
		name   string
		edit   func([]string) []string
		keepSE bool
		want   []string
	}{
		// Segments and loops.
		{"required segment missing", remove(12), false, []string{"IK3/3 N4 2010AA @10"}},
		{"required loop missing", remove(21), false, []string{"IK3/3 NM1 2010BB @19"}},
		// 2010BA N3/N4: required when the patient is the subscriber (no 2000C).
		{"subscriber address missing", func(ls []string) []string { return slices.Delete(ls, 17, 19) }, false, []string{"IK3/I6 N3 2010BA @15", "IK3/I6 N4 2010BA @15"}},
		{"subscriber N4 missing", remove(19), false, []string{"IK3/I6 N4 2010BA @15"}},
		{"subscriber N4 missing, the payer's N4 does not stand in", func(ls []string) []string {
			return insertAfter(20, "N3*PO BOX 1~", "N4*SACRAMENTO*CA*95815~")(remove(19)(ls))
		}, false, []string{"IK3/I6 N4 2010BA @15"}},
		{"subscriber DMG missing", remove(20), false, []string{"IK3/I6 DMG 2010BA @15"}},
		// 2000B SBR02: required when the subscriber is the patient (no 2000C).
		{"SBR02 missing though the subscriber is the patient", replace(16, "SBR*P********MC~"), false, []string{"IK4/I9 SBR 2000B @14 e2"}},
		{"unrecognized segment", insertAfter(17, "ZZZ*1~"), false, []string{"IK3/1 ZZZ 2010BA @16"}},
		{"segment of another transaction set", insertAfter(17, "INS*Y*18*021~"), false, []string{"IK3/6 INS 2010BA @16"}},
		{"segment out of sequence", insertAfter(28, "BHT*0019*00*X*20260115*1200*RP~"), false, []string{"IK3/7 BHT 2400 @27"}},
		{"unexpected segment", insertAfter(6, "SV1*HC:T1016*10*UN*1***1~"), false, []string{"IK3/2 SV1 1000A @5"}},
		{"segment over maximum use", insertAfter(20, "DMG*D8*19800214*F~"), false, []string{"IK3/5 DMG 2010BA @19"}},
		{"loop over maximum repeat", insertAfter(20, "NM1*IL*1*RIVERA*ANA*M***MI*91234567A~"), false, []string{"IK3/4 NM1 2010BA @19"}},
		// Elements.
		{"required element missing", replace(17, "NM1*IL*1**ANA*M***MI*91234567A~"), false, []string{"IK4/1 NM1 2010BA @15 e3"}},
		{"not used element present", replace(22, "CLM*ENC1001*300*X**11:B:1*Y*A*Y*Y~"), false, []string{"IK4/I10 CLM 2300 @20 e3"}},
		{"too many elements", replace(18, "N3*200 OAK AVE*APT 1*EXTRA~"), false, []string{"IK4/3 N3 2010BA @16 e3"}},
		{"too many components", replace(22, "CLM*ENC1001*300***11:B:1:9*Y*A*Y*Y~"), false, []string{"IK4/13 CLM 2300 @20 e5.4"}},
		{"repetition of a non-repeating element", replace(17, "NM1*IL*1*RIVERA^X*ANA*M***MI*91234567A~"), false, []string{"IK4/12 NM1 2010BA @15 e3"}},
		{"control character", replace(17, "NM1*IL*1*RIV\x01ERA*ANA*M***MI*91234567A~"), false, []string{"IK4/6 NM1 2010BA @15 e3"}},
		{"non-ASCII character", replace(17, "NM1*IL*1*RIVÉRA*ANA*M***MI*91234567A~"), false, []string{"IK4/6 NM1 2010BA @15 e3"}},
		{"invalid code", replace(17, "NM1*IL*3*RIVERA*ANA*M***MI*91234567A~"), false, []string{"IK4/7 NM1 2010BA @15 e2"}},
		// A segment is placed by its qualifier, as pyx12 does: without one
		// it matches no SBR of the table.
		{"qualifier missing", replace(16, "SBR**18*******MC~"), false, []string{"IK3/2 SBR 2000B @14", "IK3/3 SBR 2000B @15"}},
		{"long value in a code element", replace(16, "SBR*P*18181818181*******MC~"), false, []string{"IK4/7 SBR 2000B @14 e2"}},
		{"long value in a two-code element", replace(17, "NM1*IL*1111111111*RIVERA*ANA*M***MI*91234567A~"), false, []string{"IK4/7 NM1 2010BA @15 e2"}},
		{"long value in a code component", replace(22, "CLM*ENC1001*300***11:BBBBBBBBBB:1*Y*A*Y*Y~"), false, []string{"IK4/7 CLM 2300 @20 e5.2"}},
		{"invalid code in an external code list", replace(19, "N4*SACRAMENTO*XX*95815~"), false, []string{"IK4/7 N4 2010BA @17 e2"}},
		{"integer with a letter", replace(26, "LX*A~"), false, []string{"IK4/6 LX 2400 @24 e1"}},
		{"malformed decimal", replace(27, "SV1*HC:T2040:U6*2OO*UN*2***1:2~"), false, []string{"IK4/6 SV1 2400 @25 e2"}},
		{"invalid date", replace(4, "BHT*0019*00*ENC20260115001*20260230*1200*RP~"), false, []string{"IK4/8 BHT @2 e4"}},
		{"invalid time", replace(4, "BHT*0019*00*ENC20260115001*20260115*2561*RP~"), false, []string{"IK4/9 BHT @2 e5"}},
		{"too short", replace(19, "N4*SACRAMENTO*CA*95~"), false, []string{"IK4/4 N4 2010BA @17 e3"}},
		{"too long", replace(17, "NM1*IL*1*"+strings.Repeat("R", 61)+"*ANA*M***MI*91234567A~"), false, []string{"IK4/5 NM1 2010BA @15 e3"}},
		{"date in a D8 qualified element", replace(28, "DTP*472*D8*2026010~"), false, []string{"IK4/8 DTP 2400 @26 e3"}},
		{"reversed RD8 period", replace(32, "DTP*472*RD8*20260107-20260106~"), false, []string{"IK4/8 DTP 2400 @30 e3"}},
		{"pattern", insertAfter(20, "REF*SY*12345~"), false, []string{"IK4/I12 REF 2010BA @19 e2"}},
		// Syntax notes.
		{"paired (P0506)", replace(14, "PER*IC*BILLING OFFICE*TE*9165550111*EM~"), false, []string{"IK4/2 PER 2010AA @12 e6"}},
		{"conditional (C0704) and exclusion (E0207)", replace(19, "N4*SACRAMENTO*CA*95815****ON~"), false, []string{"IK4/10 N4 2010BA @17 e7", "IK4/2 N4 2010BA @17 e4"}},
		{"required (R0203)", replace(29, "REF*6R~"), false, []string{"IK4/1 REF 2400 @27 e2", "IK4/2 REF 2400 @27 e2"}},
		// Hierarchical levels.
		{"HL01 out of sequence", replace(34, "HL*4*1*22*0~"), false, []string{"IK4/I12 HL 2000B @32 e1"}},
		{"HL02 names the wrong parent", replace(34, "HL*3*2*22*0~"), false, []string{"IK4/I12 HL 2000B @32 e2"}},
		{"HL04 is 1 without a child", replace(15, "HL*2*1*22*1~"), false, []string{"IK4/I12 HL 2000B @13 e4"}},
		{"HL04 is 0 with children", replace(8, "HL*1**20*0~"), false, []string{"IK4/7 HL 2000A @6 e4", "IK4/I12 HL 2000A @6 e4"}},
		// N3 and N4 are a patient's address (2010CA) without its NM1*QC: N3
		// is unexpected, then PAT and that NM1 are missing, and N4 and DMG
		// are placed in 2010CA.
		{"patient level with subscriber segments", replace(34, "HL*3*2*23*0~"), false, []string{"IK4/I12 HL 2000B @13 e4",
			"IK3/7 SBR 2000C @33", "IK3/7 NM1 2000C @34", "IK3/2 N3 2000C @35", "IK3/3 PAT 2000C @36", "IK3/3 NM1 2010CA @36",
			"IK3/7 NM1 2010CA @38"}},
		// The 837P balancing rule.
		{"claim charge does not balance", replace(22, "CLM*ENC1001*299.99***11:B:1*Y*A*Y*Y~"), false, []string{"IK4/I12 CLM 2300 @20 e2"}},
		// Transaction set envelope.
		{"transaction set not supported", replace(3, "ST*835*0001*005010X222A1~"), false, []string{"IK5/1 ST @1"}},
		{"SE01 wrong", replace(47, "SE*44*0001~"), true, []string{"IK5/4 SE @45 e1"}},
		{"SE02 wrong", replace(47, "SE*45*0002~"), true, []string{"IK5/3 SE @45 e2"}},
		{"SE missing", remove(47), true, []string{"IK5/2 GE"}},
		// Group and interchange envelope.
		{"GE01 wrong", replace(48, "GE*2*101~"), false, []string{"AK9/5 GE e1"}},
		{"GE02 wrong", replace(48, "GE*1*102~"), false, []string{"AK9/4 GE e2"}},
		{"GE missing", remove(48), false, []string{"AK9/3 IEA"}},
		{"GS08 version not supported", replace(2, "GS*HC*CALAIMGW*DHCSENC*20260115*1200*101*X*005010X223A2~"), false, []string{"AK9/2 GS e8", "IK5/1 ST @1"}},
		{"GS01 does not match the version", replace(2, "GS*BE*CALAIMGW*DHCSENC*20260115*1200*101*X*005010X222A1~"), false, []string{"AK9/1 GS e1"}},
		{"GS06 not a number", replace(2, "GS*HC*CALAIMGW*DHCSENC*20260115*1200*1A1*X*005010X222A1~"), false, []string{"AK9/6 GS e6", "AK9/4 GE e2"}},
		{"GS04 not a date", replace(2, "GS*HC*CALAIMGW*DHCSENC*20261315*1200*101*X*005010X222A1~"), false, []string{"TA1/024 GS e4"}},
		{"IEA01 wrong", replace(49, "IEA*2*000000101~"), false, []string{"TA1/021 IEA e1"}},
		{"IEA02 does not match ISA13", replace(49, "IEA*1*000000102~"), false, []string{"TA1/001 IEA e2"}},
		{"IEA missing", remove(49), false, []string{"TA1/023 IEA"}},
		{"ISA06 too short", replace(1, "ISA*00*          *00*          *ZZ*CALAIMGW      *ZZ*DHCSENC        *260115*1200*^*00501*000000101*0*T*:~"), false, []string{"TA1/006 ISA e6"}},
		{"ISA09 not a date", replace(1, "ISA*00*          *00*          *ZZ*CALAIMGW       *ZZ*DHCSENC        *261315*1200*^*00501*000000101*0*T*:~"), false, []string{"TA1/014 ISA e9"}},
		{"ISA15 not P or T", replace(1, "ISA*00*          *00*          *ZZ*CALAIMGW       *ZZ*DHCSENC        *260115*1200*^*00501*000000101*0*X*:~"), false, []string{"TA1/020 ISA e15"}},
		{"segment outside a transaction set", insertAfter(2, "NM1*41*2*X~"), false, []string{"TA1/022 NM1"}},
		{"next interchange before IEA", func(ls []string) []string { return append(ls[:46], ls...) }, true, []string{"IK5/2 ISA", "AK9/3 ISA", "TA1/022 ISA", "TA1/025 ISA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := join(tt.edit(slices.Clone(clean)), tt.keepSE)
			res := validate(t, in, ig.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			got := keys(res.findings)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(got, want) {
				t.Fatalf("findings\n got %q\nwant %q", got, want)
			}
			// Positions point at real segments of the input (a trailer
			// missing at the end of the input: at the end of the last).
			for _, f := range res.findings {
				line := ""
				if f.Ordinal > 0 {
					line = strings.Split(in, "\n")[f.Line-1]
				}
				if f.Ordinal > 0 && !strings.HasPrefix(in[f.Offset:], line) && !strings.HasSuffix(in[:f.Offset], strings.TrimSuffix(line, "~")) {
					t.Errorf("%s: offset %d and line %d disagree", key(f), f.Offset, f.Line)
				}
				if f.Msg == "" || strings.Contains(f.Msg, "RIVERA") || strings.Contains(f.Msg, "91234567A") {
					t.Errorf("%s: bad message %q", key(f), f.Msg)
				}
			}
		})
	}
}

// Encounter loops (2000C patient, 2310, 2320/2330 other payer, 2430 line
// adjudication) of the richer sample.
func TestFindings837PEncounterLoops(t *testing.T) {
	clean := lines(readTestdata(t, "837p-patient.x12"))
	tests := []struct {
		name string
		edit func([]string) []string
		want []string
	}{
		{"line adjudication date missing", remove(42), []string{"IK3/3 DTP 2430 @40"}},
		{"other payer name missing", remove(35), []string{"IK3/3 NM1 2330B @33"}},
		{"patient information missing", remove(18), []string{"IK3/3 PAT 2000C @16"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := validate(t, join(tt.edit(slices.Clone(clean)), false), ig.Options{})
			if got := keys(res.findings); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// The IG limits a claim to 50 service lines (2400 repeat 50).
func Test837PServiceLineLimit(t *testing.T) {
	ls := lines(readTestdata(t, "837p-clean.x12"))
	var claim []string
	claim = append(claim, "CLM*ENC1001*51***11:B:1*Y*A*Y*Y~", "HI*ABK:Z590~")
	for i := 1; i <= 51; i++ {
		claim = append(claim, fmt.Sprintf("LX*%d~", i), "SV1*HC:T1016*1*UN*1***1~", "DTP*472*D8*20260105~")
	}
	// Replace the first claim (lines 22-33) with the 51-line one.
	ls = slices.Replace(ls, 21, 33, claim...)
	res := validate(t, join(ls, false), ig.Options{})
	lx51 := 20 + 2 + 50*3 // set position of the 51st LX
	want := []string{fmt.Sprintf("IK3/4 LX 2400 @%d", lx51)}
	if got := keys(res.findings); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestFindings834(t *testing.T) {
	clean := lines(readTestdata(t, "834-clean.x12"))
	tests := []struct {
		name string
		edit func([]string) []string
		want []string
	}{
		// REF*0F may follow REF*1L (same position), so it is missing only
		// once the DTP after them is read.
		{"subscriber identifier missing", remove(10), []string{"IK3/3 REF 2000 @10"}},
		{"maintenance type code not valid", replace(9, "INS*Y*18*099*28*A***AC~"), []string{"IK4/7 INS 2000 @7 e3"}},
		{"health coverage dates missing", remove(21), []string{"IK3/3 DTP 2300 @19"}},
		{"member level dates after the member name", insertAfter(14, "DTP*356*D8*20260101~"), []string{"IK3/7 DTP 2100A @13"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := validate(t, join(tt.edit(slices.Clone(clean)), false), ig.Options{})
			if got := keys(res.findings); !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// HL03 must fit the level the table expects there: in an 837P a patient
// (23) sits under a subscriber (22), which sits under a billing provider
// (20). A patient level directly under the billing provider has no place.
func TestHLLevelCodes(t *testing.T) {
	ls := lines(readTestdata(t, "837p-clean.x12"))
	ls[14] = "HL*2*1*23*0~"
	res := validate(t, join(ls, false), ig.Options{})
	if len(res.findings) == 0 || key(res.findings[0]) != "IK3/2 HL 2010AA @13" {
		t.Fatalf("first finding %q", keys(res.findings[:min(1, len(res.findings))]))
	}
}

func TestResults(t *testing.T) {
	clean := lines(readTestdata(t, "837p-clean.x12"))
	// A group of three transaction sets: good, bad, good.
	st := slices.Clone(clean[2:47])
	bad := slices.Clone(st)
	bad[0], bad[len(bad)-1] = "ST*837*0002*005010X222A1~", "SE*45*0002~"
	bad[14] = "NM1*IL*3*RIVERA*ANA*M***MI*91234567A~"
	third := slices.Clone(st)
	third[0], third[len(third)-1] = "ST*837*0003*005010X222A1~", "SE*45*0003~"
	ls := slices.Concat(clean[:2], st, bad, third, []string{"GE*3*101~", clean[48]})
	res := validate(t, join(ls, true), ig.Options{})
	if len(res.transactions) != 3 {
		t.Fatalf("%d transactions", len(res.transactions))
	}
	wantStatus := []ig.Status{ig.Accepted, ig.Rejected, ig.Accepted}
	for i, tr := range res.transactions {
		if tr.Status != wantStatus[i] || tr.SetID != "837" || tr.Control != fmt.Sprintf("%04d", i+1) || tr.Reference != "005010X222A1" || tr.Segments != 45 {
			t.Errorf("transaction %d: %s %s %s %s %d", i, tr.Status, tr.SetID, tr.Control, tr.Reference, tr.Segments)
		}
		if tr.Group == nil || tr.Group.Control != "101" || tr.Group.Version != "005010X222A1" {
			t.Errorf("transaction %d group %+v", i, tr.Group)
		}
	}
	if got := res.transactions[1].Codes; !slices.Equal(got, []string{ig.SetSegmentErrors}) {
		t.Errorf("IK502 codes %v", got)
	}
	if f := res.transactions[1].Findings; len(f) != 1 || f[0].Value != "3" || f[0].ElementRef != "1065" || f[0].SetPos != 15 || f[0].Ordinal != 2+45+15 {
		t.Errorf("finding %+v", f)
	}
	g := res.groups[0]
	if g.Status != ig.PartiallyAccepted || g.Included != 3 || g.Received != 3 || g.Accepted != 2 || len(g.Codes) != 0 {
		t.Errorf("group %+v", g)
	}
	if res.sum.Accepted != 2 || res.sum.Rejected != 1 || res.sum.Errors != 1 || res.sum.Segments != int64(len(ls)) {
		t.Errorf("summary %+v", res.sum)
	}
}

func TestMaxFindings(t *testing.T) {
	clean := lines(readTestdata(t, "837p-clean.x12"))
	clean[16] = "NM1*IL*3*RIVERA*ANA*M***MI*91234567A~"
	clean[35] = "NM1*IL*3*NGUYEN*BAO****MI*98765432B~"
	res := validate(t, join(clean, false), ig.Options{MaxFindings: 1})
	tr := res.transactions[0]
	if len(tr.Findings) != 1 || tr.Dropped != 1 || len(res.findings) != 2 || tr.Status != ig.Rejected {
		t.Errorf("findings %d dropped %d reported %d", len(tr.Findings), tr.Dropped, len(res.findings))
	}
}

// Envelope findings point at their own segment, also in a later
// interchange.
func TestSecondInterchangePositions(t *testing.T) {
	ls := lines(readTestdata(t, "837p-clean.x12"))
	second := slices.Clone(ls)
	second[0] = "ISA*00*          *00*          *ZZ*CALAIMGW      *ZZ*DHCSENC        *260115*1200*^*00501*000000102*0*T*:~"
	second[len(second)-1] = "IEA*1*000000102~"
	res := validate(t, join(slices.Concat(ls, second), false), ig.Options{})
	if len(res.findings) != 1 || key(res.findings[0]) != "TA1/006 ISA e6" || res.findings[0].Ordinal != int64(len(ls)+1) || res.findings[0].Line != int64(len(ls)+1) {
		t.Fatalf("findings %+v", res.findings)
	}
	if len(res.interchanges) != 2 || res.interchanges[0].Status != ig.Accepted || res.interchanges[1].Status != ig.Rejected || res.interchanges[1].Note != "006" {
		t.Errorf("interchanges %+v", res.interchanges)
	}
}

func TestNotX12(t *testing.T) {
	for _, in := range []string{"", "member_id,name\n1,Ann\n", `{"a":1}`} {
		_, err := ig.NewValidator(ig.Options{}).Validate(context.Background(), strings.NewReader(in))
		if !errors.Is(err, x12.ErrNotX12) {
			t.Errorf("%q: err = %v", in, err)
		}
	}
}

func TestTruncated(t *testing.T) {
	in := readTestdata(t, "837p-clean.x12")
	in = in[:strings.Index(in, "REF*6R*ENC1001-1")+10]
	res := validate(t, in, ig.Options{})
	want := []string{"IK5/2 SE @26", "AK9/3 GE", "TA1/023"}
	slices.Sort(want)
	if got := keys(res.findings); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if len(res.transactions) != 1 || res.transactions[0].Status != ig.Rejected || len(res.groups) != 1 || len(res.interchanges) != 1 {
		t.Errorf("results %d %d %d", len(res.transactions), len(res.groups), len(res.interchanges))
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ig.NewValidator(ig.Options{}).Validate(ctx, strings.NewReader(readTestdata(t, "837p-clean.x12")))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestCallbackErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := ig.NewValidator(ig.Options{OnTransaction: func(*ig.TransactionResult) error { n++; return stop }}).
		Validate(context.Background(), strings.NewReader(readTestdata(t, "837p-clean.x12")))
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err %v after %d calls", err, n)
	}
}

func TestLookup(t *testing.T) {
	for _, c := range []struct{ version, id, want string }{
		{"005010X222A1", "837", "837"}, {"005010X220A1", "834", "834"}, {"005010X231A1", "999", "999"}, {"005010X214", "277", "277"},
		{"005010X223A2", "837", ""}, {"005010X222A1", "834", ""},
	} {
		s := ig.Lookup(c.version, c.id)
		if (s == nil) != (c.want == "") || (s != nil && (s.SetID != c.want || s.Version != c.version)) {
			t.Errorf("Lookup(%s, %s) = %v", c.version, c.id, s)
		}
	}
}

// A loop of more segments than MaxLoopSegments stops the validation with
// the limit and the position; at the limit the file is read on.
func TestMaxLoopSegments(t *testing.T) {
	clean := lines(readTestdata(t, "834-clean.x12"))
	refs := make([]string, 17) // INS + 3 REF + 17 REF + DTP = 22 segments before NM1 opens 2100A
	for i := range refs {
		refs[i] = "REF*17*X~"
	}
	in := strings.Join(insertAfter(12, refs...)(clean), "\n")
	for _, tt := range []struct {
		max  int
		fail bool
	}{{22, false}, {21, true}} {
		_, err := ig.NewValidator(ig.Options{MaxLoopSegments: tt.max}).Validate(context.Background(), strings.NewReader(in))
		var le *ig.LoopLimitError
		if errors.As(err, &le) != tt.fail {
			t.Fatalf("max %d: %v", tt.max, err)
		}
		if tt.fail && (le.Loop != "2000" || le.Ordinal != int64(9+tt.max) || !strings.Contains(err.Error(), "MaxLoopSegments")) {
			t.Errorf("max %d: %v (%+v)", tt.max, err, le.Pos)
		}
	}
}
