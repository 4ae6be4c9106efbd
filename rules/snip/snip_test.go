package snip

import "testing"

func TestCodeSetEdits(t *testing.T) {
	cases := []struct {
		name string
		f    func(string) bool
		v    string
		want bool
	}{
		{"hcpcs level II", HCPCSShape, "G9008", true},
		{"hcpcs cpt", HCPCSShape, "99213", true},
		{"hcpcs cpt category II", HCPCSShape, "0001F", true},
		{"hcpcs four chars", HCPCSShape, "G900", false},
		{"hcpcs six chars", HCPCSShape, "G90081", false},
		{"hcpcs letter in middle", HCPCSShape, "G9A08", false},
		{"hcpcs lower case", HCPCSShape, "g9008", false},
		{"icd three chars", ICD10Shape, "Z59", true},
		{"icd seven chars", ICD10Shape, "S72001A", true},
		{"icd two chars", ICD10Shape, "Z5", false},
		{"icd eight chars", ICD10Shape, "S72001AA", false},
		{"icd with dot", ICD10Shape, "Z59.0", false},
		{"icd starts with digit", ICD10Shape, "159", false},
		{"icd second not digit", ICD10Shape, "ZA9", false},
		{"pos office", PlaceOfService, "11", true},
		{"pos home", PlaceOfService, "12", true},
		{"pos 99", PlaceOfService, "99", true},
		{"pos unassigned 30", PlaceOfService, "30", false},
		{"pos one digit", PlaceOfService, "1", false},
		{"npi valid", NPI, "1234567893", true},
		{"npi bad check digit", NPI, "1234567890", false},
		{"npi nine digits", NPI, "123456789", false},
		{"state CA", State, "CA", true},
		{"state DC", State, "DC", true},
		{"state lower", State, "ca", false},
		{"state unknown", State, "XX", false},
		{"zip 5", ZIP, "95814", true},
		{"zip 9", ZIP, "958140001", true},
		{"zip 4", ZIP, "9581", false},
		{"zip 6", ZIP, "958140", false},
		{"zip hyphen", ZIP, "95814-0001", false},
		{"zip letter", ZIP, "9581A", false},
	}
	for _, c := range cases {
		if got := c.f(c.v); got != c.want {
			t.Errorf("%s: %q = %v, want %v", c.name, c.v, got, c.want)
		}
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		level, code, seg string
		elem, comp       int
		want             string
		lvl              Level
	}{
		{"interchange", "022", "", 0, 0, SyntaxEnvelope, Syntax},
		{"group", "5", "", 0, 0, SyntaxEnvelope, Syntax},
		{"segment", "1", "ZZZ", 0, 0, SyntaxSegment, Syntax},
		{"segment", "3", "NM1", 0, 0, SyntaxSegment, Syntax},
		{"segment", "I4", "PAT", 0, 0, GuideSegment, Guide},
		{"segment", "I6", "REF", 0, 0, SituationalSet, Situational},
		{"element", "4", "NM1", 3, 0, SyntaxElement, Syntax},
		{"element", "8", "DTP", 3, 0, SyntaxElement, Syntax},
		{"element", "I6", "CLM", 5, 0, GuideElement, Guide},
		{"element", "I12", "CLM", 2, 0, BalanceClaimTotal, Balancing},
		{"element", "I12", "LX", 1, 0, GuideLineNumber, Guide},
		{"element", "I12", "CLM", 1, 0, GuideElement, Guide},
		{"element", "2", "NM1", 9, 0, SituationalSet, Situational},
		{"element", "7", "CLM", 5, 1, CodePOS, CodeSet},
		{"element", "7", "CLM", 5, 2, SyntaxElement, Syntax}, // CLM05-2, facility code qualifier: a code of the guide
		{"element", "7", "CLM", 5, 3, SyntaxElement, Syntax},
		{"element", "7", "SV1", 5, 0, CodePOS, CodeSet},
		{"element", "7", "N4", 2, 0, CodeState, CodeSet},
		{"element", "7", "N4", 1, 0, SyntaxElement, Syntax},
		{"element", "7", "CLM", 6, 0, SyntaxElement, Syntax},
		{"element", "I9", "NM1", 9, 0, SituationalSet, Situational},
	}
	for _, c := range cases {
		got := Classify(c.level, c.code, c.seg, c.elem, c.comp)
		if got != c.want {
			t.Errorf("Classify(%s %s %s%02d-%d) = %s, want %s", c.level, c.code, c.seg, c.elem, c.comp, got, c.want)
			continue
		}
		if e, _ := Lookup(got); e.Level != c.lvl {
			t.Errorf("%s: level %d, want %d", got, e.Level, c.lvl)
		}
	}
}

func TestProfileOverridesAnEditsAction(t *testing.T) {
	p, err := NewProfile(map[string]string{CodeZIP: "warn", BalanceClaimTotal: "reject_set"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Action(CodeZIP); got != Warn {
		t.Errorf("ZIP overridden: %v, want warn", got)
	}
	if got := p.Action(BalanceClaimTotal); got != RejectSet {
		t.Errorf("balance overridden: %v, want reject_set", got)
	}
	if got := p.Action(CodeNPI); got != RejectClaim {
		t.Errorf("NPI default: %v, want reject_claim", got)
	}
	if got := (Profile{}).Action(SyntaxElement); got != RejectSet {
		t.Errorf("syntax default: %v, want reject_set", got)
	}
	if _, err := NewProfile(map[string]string{"SNIP9-NOPE": "warn"}); err == nil {
		t.Error("unknown edit ID accepted")
	}
	if _, err := NewProfile(map[string]string{CodeZIP: "ignore"}); err == nil {
		t.Error("unknown action accepted")
	}
}

func TestEditsAreUniqueAndComplete(t *testing.T) {
	seen := map[string]bool{}
	prev := Level(0)
	for _, e := range Edits() {
		if seen[e.ID] {
			t.Errorf("%s twice", e.ID)
		}
		seen[e.ID] = true
		if e.Level < prev {
			t.Errorf("%s: level %d after %d: not in level order", e.ID, e.Level, prev)
		}
		prev = e.Level
		if e.Plain == "" || e.Fix == "" || e.Source == "" || e.Default == 0 {
			t.Errorf("%s: plain words, fix, source and default action are required", e.ID)
		}
	}
}

// Each decision of the invoice rules names the edit of its level: the
// stateful rules are level 7, the others level 6; the 277CA reports them
// with the edit's status code (and entity).
func TestForRule(t *testing.T) {
	cases := []struct {
		rule, want     string
		level          Level
		status, entity string
	}{
		{"ELIG-NOT-ENROLLED", Eligibility, Partner, "97", "QC"},
		{"ELIG-SHARE-OF-COST", Eligibility, Partner, "97", "QC"},
		{"ELIG-MEMBER-MISMATCH", Eligibility, Partner, "97", "QC"},
		{"ECM-EXCLUDED", Eligibility, Partner, "97", "QC"},
		{"POF-NOT-LIVE", Eligibility, Partner, "97", "QC"},
		{"AUTH-MISSING", Authorization, Partner, "21", ""},
		{"AUTH-OTHER-PROVIDER", Authorization, Partner, "21", ""},
		{"AUTH-UNITS-EXCEEDED", Authorization, Partner, "21", ""},
		{"CS-LIMIT", Authorization, Partner, "21", ""},
		{"TR-NEEDS-ECM", Authorization, Partner, "21", ""},
		{"AUTH-OUTREACH-EXEMPT", Authorization, Partner, "21", ""},
		{"AUTH-STREAMLINED-WINDOW", Authorization, Partner, "21", ""},
		{"AUTH-JI-PRERELEASE", Authorization, Partner, "21", ""},
		{"AUTH-PERIOD-POLICY", Authorization, Partner, "21", ""},
		{"PROVIDER-NOT-CONTRACTED", Contract, Partner, "21", ""},
		{"DUPLICATE-LINE", Duplicate, Partner, "54", ""},
		{"CODE-NOT-ALLOWED", DHCSCode, LineOfBiz, "454", ""},
		{"FIELD-INVALID", InvoiceRule, LineOfBiz, "21", ""},
		{"CORRECTION-ORIGINAL-UNKNOWN", Frequency, Partner, "21", ""},
		{"CORRECTION-HELD", Frequency, Partner, "21", ""},
		{"CORRECTION-NOT-RECEIVED", Frequency, Partner, "21", ""},
		{"CORRECTION-VOIDED", Frequency, Partner, "21", ""},
		{"FIELD-MISSING", InvoiceRule, LineOfBiz, "21", ""},
	}
	for _, c := range cases {
		id := ForRule(c.rule)
		e, ok := Lookup(id)
		if id != c.want || !ok || e.Level != c.level || e.Status != c.status || e.Entity() != c.entity || e.Default != RejectClaim {
			t.Errorf("%s: edit %s %+v entity %q, want %s level %d status %s entity %q", c.rule, id, e, e.Entity(), c.want, c.level, c.status, c.entity)
		}
	}
	if e, _ := Lookup(CodeNPI); e.Entity() != "85" {
		t.Errorf("NPI edit entity %q, want 85", e.Entity())
	}
}
