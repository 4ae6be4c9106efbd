package encounters

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

const correctionHeader = header + ",frequency,original_claim"

// dhcs277CA writes the 277CA DHCS sends back for the claims (CLM01 →
// 15-digit Encounter ID), all accepted.
func (e *env) dhcs277CA(ids map[string]string) string {
	e.t.Helper()
	segs := []string{
		"ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*951234567305   *261124*0830*^*00501*000000901*0*P*:",
		"GS*HN*CALIFORNIA-DHCS*951234567305*20261124*0830*901*X*005010X214",
		"ST*277*0001*005010X214", "BHT*0085*08*X*20261124*0830*TH",
		"HL*1**20*1", "NM1*PR*2*CALIFORNIA-DHCS*****46*610442",
		"HL*2*1*21*1", "NM1*41*2*PLAN*****46*951234567", "TRN*2*BATCH", "STC*F1:20*20261124*WQ",
		"HL*3*2*19*1",
	}
	hl := 4
	for clm, id := range ids {
		segs = append(segs, "HL*"+strconv.Itoa(hl)+"*3*PT", "TRN*2*"+clm, "STC*F1:20*20261124*WQ", "REF*1K*"+id)
		hl++
	}
	segs = append(segs, "SE*1*0001", "GE*1*901", "IEA*1*000000901")
	p := filepath.Join(e.dir, "resp_277.dat")
	if err := os.WriteFile(p, []byte(strings.Join(segs, "~")+"~"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	res := ingest.Ingest277CA(context.Background(), ingest.Job{Files: []string{p}, Store: e.state.(*store.SQLite)})
	if len(res) != 1 || res[0].Err != nil || res[0].Loaded != len(ids) {
		e.t.Fatalf("277CA ingest: %+v", res)
	}
	return p
}

// claimOf returns the CLM segment and the REF*F8 of the only claim in path.
func claimOf(t *testing.T, path string) (clm, f8 []string) {
	for _, s := range segments(t, path) {
		switch {
		case s[0] == "CLM":
			clm = s
		case s[0] == "REF" && s[1] == "F8":
			f8 = s
		}
	}
	return clm, f8
}

// newHCPEnv is an env whose plan writes by HCP code (county 33: 305),
// with members 1 and 2 enrolled in county 33.
func newHCPEnv(t *testing.T) *env {
	e := newEnv(t)
	p := e.cfg.Partners[e.cfg.Encounters.TradingPartner]
	p.Plan.Name, p.Plan.TIN = "PLAN", "951234567"
	p.Plan.HCPCodes = map[string]string{"33": "305"}
	e.cfg.Partners[e.cfg.Encounters.TradingPartner] = p
	e.enroll(map[int]string{1: "33", 2: "33"})
	return e
}

// A replacement (7) and a void (8) reuse the original CLM01, carry CLM05-3
// 7/8 and the DHCS Encounter ID of the ingested 277CA in 2300 REF*F8; a
// correction whose original has no Encounter ID yet, or whose CLM01 has a
// replacement DHCS has not answered yet, is held, not sent.
func TestReplacementAndVoidCarryTheDHCSEncounterID(t *testing.T) {
	e := newHCPEnv(t)
	orig, err := e.convert("out1", e.file("orig.csv", correctionHeader,
		row("INV-1", 1, 1, 1, "G9008", "U1")+",,",
		row("INV-2", 1, 2, 1, "G9008", "U1")+",,",
		row("INV-3", 1, 1, 2, "G9008", "U1")+",,"))
	if err != nil || len(orig.Outputs) != 1 {
		t.Fatalf("original: %v %+v", err, orig)
	}
	clm := clm01s(t, orig.Output)
	if len(clm) != 3 {
		t.Fatalf("claims %v", clm)
	}
	// DHCS answers for the first and third claims only.
	ids := map[string]string{clm[0]: "202611240000001", clm[2]: "202611240000003"}
	e.dhcs277CA(ids)

	tests := []struct {
		name, freq, ref string
		wantRule        string // "" = sent
		wantCLM01       string
	}{
		{"replacement by CLM01", "7", clm[0], "", clm[0]},
		{"void while that replacement waits for DHCS", "8", clm[0], rules.CorrectionHeld, ""},
		{"void by invoice number", "8", "INV-3", "", clm[2]},
		{"replacement held while the Encounter ID is unknown", "7", clm[1], rules.CorrectionHeld, ""},
		{"correction of a claim never sent", "7", "INV-NONE", rules.CorrectionUnknown, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := "corr" + strconv.Itoa(i+1)
			res, err := e.convert(out, e.file(out+".csv", correctionHeader, row("INV-C", 1, 1, 1, "G9008", "U1")+","+tt.freq+","+tt.ref))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantRule != "" {
				if len(res.Outputs) != 0 || res.Summary.ByRule[tt.wantRule] != 1 {
					t.Errorf("outputs %v, rejects %v; want nothing sent and one %s", res.Outputs, res.Summary.ByRule, tt.wantRule)
				}
				return
			}
			if len(res.Outputs) != 1 || !strings.Contains(filepath.Base(res.Output), "_305_") {
				t.Fatalf("outputs %v, rejects %v", res.Outputs, res.Summary.ByRule)
			}
			c, f8 := claimOf(t, res.Output)
			if c[1] != tt.wantCLM01 || !strings.HasSuffix(c[5], ":B:"+tt.freq) {
				t.Errorf("CLM %v: want CLM01 %s and CLM05-3 %s", c, tt.wantCLM01, tt.freq)
			}
			if f8 == nil || f8[2] != ids[tt.wantCLM01] {
				t.Errorf("REF*F8 %v, want the DHCS Encounter ID %s", f8, ids[tt.wantCLM01])
			}
			validate837(t, res.Output)
		})
	}
}

// A correction names its original among its own billing provider's
// claims: an invoice number another provider used too is its own claim,
// another provider's CLM01 is unknown, and an invoice that became two
// claims (two members) is ambiguous until the CLM01 is given.
func TestCorrectionFindsItsOwnProvidersClaim(t *testing.T) {
	e := newHCPEnv(t)
	golden := func(r string) string {
		return strings.Replace(r, "1456789019,941234567,Bay Street Housing", "1245319599,951111111,Golden State Care", 1)
	}
	clm01s := func(path string) []string {
		var out []string
		for _, s := range segments(t, path) {
			if s[0] == "CLM" {
				out = append(out, s[1])
			}
		}
		return out
	}
	bay, err := e.convert("bay", e.file("bay.csv", correctionHeader,
		row("SAME-1", 1, 1, 1, "G9008", "U1")+",,",
		row("TWO-1", 1, 1, 2, "G9008", "U1")+",,",
		row("TWO-1", 2, 2, 2, "G9008", "U1")+",,"))
	if err != nil || len(bay.Outputs) != 1 {
		t.Fatalf("Bay Street: %v %+v", err, bay)
	}
	gs, err := e.convert("golden", e.file("golden.csv", correctionHeader, golden(row("SAME-1", 1, 2, 3, "G9008", "U1"))+",,"))
	if err != nil || len(gs.Outputs) != 1 {
		t.Fatalf("Golden State: %v %+v", err, gs)
	}
	bayClaims, goldenClaims := clm01s(bay.Output), clm01s(gs.Output)
	if len(bayClaims) != 3 || len(goldenClaims) != 1 {
		t.Fatalf("claims %v and %v, want 3 (SAME-1, TWO-1 for two members) and 1", bayClaims, goldenClaims)
	}
	ids := map[string]string{}
	for i, c := range append(slices.Clone(bayClaims), goldenClaims...) {
		ids[c] = fmt.Sprintf("2026112400000%02d", i+1)
	}
	e.dhcs277CA(ids)

	tests := []struct {
		name, row, ref string
		wantRule       string // "" = sent, with wantCLM01
		wantCLM01      string
	}{
		{"own invoice number, used by another provider too", row("C-1", 1, 1, 1, "G9008", "U1"), "SAME-1", "", bayClaims[0]},
		{"the other provider's own", golden(row("C-2", 1, 2, 3, "G9008", "U1")), "SAME-1", "", goldenClaims[0]},
		{"another provider's CLM01", golden(row("C-3", 1, 1, 1, "G9008", "U1")), bayClaims[0], rules.CorrectionUnknown, ""},
		{"an invoice of two claims", row("C-4", 1, 1, 2, "G9008", "U1"), "TWO-1", rules.CorrectionAmbiguous, ""},
		{"one of them by CLM01", row("C-5", 1, 2, 2, "G9008", "U1"), bayClaims[2], "", bayClaims[2]},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := "own" + strconv.Itoa(i+1)
			res, err := e.convert(out, e.file(out+".csv", correctionHeader, tt.row+",7,"+tt.ref))
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantRule != "" {
				if len(res.Outputs) != 0 || res.Summary.ByRule[tt.wantRule] != 1 {
					t.Errorf("outputs %v, rejects %v; want nothing sent and one %s", res.Outputs, res.Summary.ByRule, tt.wantRule)
				}
				return
			}
			if len(res.Outputs) != 1 {
				t.Fatalf("outputs %v, rejects %v", res.Outputs, res.Summary.ByRule)
			}
			clm, f8 := claimOf(t, res.Output)
			if clm[1] != tt.wantCLM01 || f8 == nil || f8[2] != ids[tt.wantCLM01] {
				t.Errorf("CLM %v, REF*F8 %v: want CLM01 %s and its Encounter ID %s", clm, f8, tt.wantCLM01, ids[tt.wantCLM01])
			}
		})
	}
}

// The lines of one replacement go out in one claim: a line of it that
// cannot join that claim (its row not adjacent) is CORRECTION-SPLIT, and
// the CLM01 is sent once.
func TestCorrectionSentInOneClaim(t *testing.T) {
	e := newHCPEnv(t)
	orig, err := e.convert("out1", e.file("orig.csv", correctionHeader, row("INV-1", 1, 1, 1, "G9008", "U1")+",,"))
	if err != nil || len(orig.Outputs) != 1 {
		t.Fatalf("original: %v %+v", err, orig)
	}
	clm, _ := claimOf(t, orig.Output)
	e.dhcs277CA(map[string]string{clm[1]: "202611240000001"})
	res, err := e.convert("corr", e.file("corr.csv", correctionHeader,
		row("INV-C", 1, 1, 1, "G9008", "U1")+",7,"+clm[1],
		row("INV-C", 2, 1, 2, "G9008", "U1")+",7,"+clm[1],
		row("INV-D", 1, 2, 3, "G9008", "U1")+",,",
		row("INV-C", 3, 1, 4, "G9008", "U1")+",7,"+clm[1]))
	if err != nil || len(res.Outputs) != 1 {
		t.Fatalf("corrections: %v %+v", err, res)
	}
	if res.Summary.ByRule[rules.CorrectionSplit] != 1 || len(res.Summary.ByRule) != 1 {
		t.Errorf("rejects %v, want one %s", res.Summary.ByRule, rules.CorrectionSplit)
	}
	var claims []string
	lines := map[string]int{}
	cur := ""
	for _, s := range segments(t, res.Output) {
		switch s[0] {
		case "CLM":
			cur = s[1]
			claims = append(claims, s[1])
		case "LX":
			lines[cur]++
		}
	}
	if len(claims) != 2 || claims[0] != clm[1] || lines[clm[1]] != 2 {
		t.Errorf("claims %v, lines %v: want the replacement once with its 2 adjacent lines, then the original", claims, lines)
	}
	validate837(t, res.Output)
}

// After DHCS accepts a void, the encounter is gone: a replacement or
// another void of its CLM01 is CORRECTION-VOIDED, not sent citing the
// void's Encounter ID; while the void waits for DHCS, a correction is held.
func TestCorrectionOfAVoidedEncounter(t *testing.T) {
	e := newHCPEnv(t)
	orig, err := e.convert("out1", e.file("orig.csv", correctionHeader, row("INV-1", 1, 1, 1, "G9008", "U1")+",,"))
	if err != nil || len(orig.Outputs) != 1 {
		t.Fatalf("original: %v %+v", err, orig)
	}
	clm, _ := claimOf(t, orig.Output)
	e.dhcs277CA(map[string]string{clm[1]: "202611240000001"})
	void, err := e.convert("void", e.file("void.csv", correctionHeader, row("INV-V", 1, 1, 1, "G9008", "U1")+",8,"+clm[1]))
	if err != nil || len(void.Outputs) != 1 {
		t.Fatalf("void: %v %+v", err, void)
	}
	correct := func(name, freq, wantRule string) {
		t.Helper()
		res, err := e.convert(name, e.file(name+".csv", correctionHeader, row("INV-C", 1, 1, 1, "G9008", "U1")+","+freq+","+clm[1]))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Outputs) != 0 || res.Summary.ByRule[wantRule] != 1 {
			t.Errorf("%s: outputs %v, rejects %v; want nothing sent and one %s", name, res.Outputs, res.Summary.ByRule, wantRule)
		}
	}
	correct("waiting", "7", rules.CorrectionHeld)
	e.dhcs277CA(map[string]string{clm[1]: "202611250000002"})
	correct("replace", "7", rules.CorrectionVoided)
	correct("revoid", "8", rules.CorrectionVoided)
}

// A replacement that moves a line to another day holds the new day's key
// once sent; when DHCS accepts it the old day's key is released, so a new
// original for the old day is sent and one for the new day is a
// DUPLICATE-LINE. A void holds its claim's keys until DHCS accepts it;
// then the service may be billed again as a new original.
func TestCorrectionMovesTheDuplicateKeys(t *testing.T) {
	e := newHCPEnv(t)
	send := func(out, line string) *Result {
		t.Helper()
		res, err := e.convert(out, e.file(out+".csv", correctionHeader, line))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	accept := func(res *Result, clm, id string) {
		t.Helper()
		if len(res.Outputs) != 1 {
			t.Fatalf("nothing sent: rejects %v", res.Summary.ByRule)
		}
		if r := e.load(ingest.Kind277CA, e.dhcs277(res.Output, answer{clm, "F1:20", id})); r.Loaded != 1 {
			t.Fatalf("277CA of %s: %+v", filepath.Base(res.Output), r)
		}
	}
	// newOriginal sends a new original of member 1's G9008 U1 on day d
	// and tells whether it was sent, else which rule rejected it.
	n := 0
	newOriginal := func(d int) string {
		t.Helper()
		n++
		res := send("new"+strconv.Itoa(n), row("INV-N"+strconv.Itoa(n), 1, 1, d, "G9008", "U1")+",,")
		if res.Accepted() == 1 {
			return "sent"
		}
		return strings.Join(slices.Sorted(maps.Keys(res.Summary.ByRule)), " ")
	}

	orig := send("orig", row("INV-1", 1, 1, 1, "G9008", "U1")+",,")
	clm := clm01s(t, orig.Output)[0]
	accept(orig, clm, "202611240000001")
	repl := send("repl", row("INV-1R", 1, 1, 2, "G9008", "U1")+",7,"+clm)
	if got := newOriginal(2); got != rules.DuplicateLine {
		t.Errorf("new day while the replacement waits: %s, want %s", got, rules.DuplicateLine)
	}
	if got := newOriginal(1); got != rules.DuplicateLine {
		t.Errorf("old day while the replacement waits: %s, want %s", got, rules.DuplicateLine)
	}
	accept(repl, clm, "202611240000002")
	if got := newOriginal(1); got != "sent" {
		t.Errorf("old day after DHCS accepted the replacement: %s, want sent", got)
	}
	if got := newOriginal(2); got != rules.DuplicateLine {
		t.Errorf("new day after DHCS accepted the replacement: %s, want %s", got, rules.DuplicateLine)
	}

	void := send("void", row("INV-1V", 1, 1, 2, "G9008", "U1")+",8,"+clm)
	if got := newOriginal(2); got != rules.DuplicateLine {
		t.Errorf("voided day while the void waits: %s, want %s", got, rules.DuplicateLine)
	}
	accept(void, clm, "202611240000003")
	if got := newOriginal(2); got != "sent" {
		t.Errorf("voided day after DHCS accepted the void: %s, want sent", got)
	}
}
