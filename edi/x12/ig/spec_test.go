package ig_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// specT01 is a small hand-written table, as another guide (the DHCS 274)
// will be written: it covers what the generated tables do not have
// (composite syntax notes, not-used segments and loops, repeats).
var specT01 = &ig.Spec{
	Name: "Test transaction", SetID: "T01", Version: "TEST01", FunctionalID: "ZZ",
	Children: []ig.Node{
		&ig.Segment{ID: "ST", Name: "Transaction Set Header", Usage: ig.Required, Pos: 100, MaxUse: 1, Elements: []ig.Element{
			{Ref: "143", Name: "Transaction Set Identifier Code", Usage: ig.Required, Type: ig.ID, Min: 3, Max: 3, Codes: []string{"T01"}},
			{Ref: "329", Name: "Transaction Set Control Number", Usage: ig.Required, Type: ig.AN, Min: 4, Max: 9},
		}},
		&ig.Loop{ID: "L1", Name: "First loop", Usage: ig.Required, Pos: 200, Repeat: 2, Children: []ig.Node{
			&ig.Segment{ID: "A01", Name: "Alpha", Usage: ig.Required, Pos: 200, MaxUse: 1, Syntax: []ig.Rule{"L040506"}, Elements: []ig.Element{
				{Ref: "98", Name: "Qualifier", Usage: ig.Required, Type: ig.ID, Min: 1, Max: 2, Codes: []string{"X"}},
				{Ref: "C001", Name: "Composite", Usage: ig.Situational, Syntax: []ig.Rule{"P0203"}, Components: []ig.Element{
					{Ref: "1", Name: "First", Usage: ig.Required, Type: ig.AN, Min: 1, Max: 5},
					{Ref: "2", Name: "Second", Usage: ig.Situational, Type: ig.AN, Min: 1, Max: 5},
					{Ref: "3", Name: "Third", Usage: ig.Situational, Type: ig.AN, Min: 1, Max: 5},
				}},
				{Ref: "4", Name: "Repeating", Usage: ig.Situational, Type: ig.AN, Min: 1, Max: 10, Repeat: 3},
				{Ref: "5", Name: "List head", Usage: ig.Situational, Type: ig.AN, Min: 1, Max: 10},
				{Ref: "6", Name: "List one", Usage: ig.Situational, Type: ig.AN, Min: 1, Max: 10},
				{Ref: "7", Name: "List two", Usage: ig.Situational, Type: ig.AN, Min: 1, Max: 10},
				{Ref: "8", Name: "Unused", Usage: ig.NotUsed, Type: ig.N0, Min: 1, Max: 10},
			}},
			&ig.Segment{ID: "B01", Name: "Beta", Usage: ig.NotUsed, Pos: 300, MaxUse: 1, Elements: []ig.Element{
				{Ref: "9", Name: "Anything", Usage: ig.Situational, Type: ig.AN, Min: 1, Max: 10},
			}},
		}},
		&ig.Loop{ID: "L2", Name: "Unused loop", Usage: ig.NotUsed, Pos: 400, Children: []ig.Node{
			&ig.Segment{ID: "C01", Name: "Gamma", Usage: ig.Required, Pos: 400, MaxUse: 1, Elements: []ig.Element{
				{Ref: "9", Name: "Anything", Usage: ig.Situational, Type: ig.AN, Min: 1, Max: 10},
			}},
		}},
		&ig.Segment{ID: "SE", Name: "Transaction Set Trailer", Usage: ig.Required, Pos: 500, MaxUse: 1, Elements: []ig.Element{
			{Ref: "96", Name: "Number of Included Segments", Usage: ig.Required, Type: ig.N0, Min: 1, Max: 10},
			{Ref: "329", Name: "Transaction Set Control Number", Usage: ig.Required, Type: ig.AN, Min: 4, Max: 9},
		}},
	},
}

// warnA01 is a semantic check that notes, as a warning, every A01 whose
// element 5 is "WARN".
type warnA01 struct{}

func (warnA01) Segment(t *ig.Txn, seg *x12.Segment) {
	if seg.Is("A01") && string(seg.Element(5)) == "WARN" {
		t.Report(ig.Finding{Pos: t.Pos(), Severity: ig.Warning, Code: ig.ElemPatternMismatch, Element: 5, Msg: "test warning"})
	}
}
func (warnA01) End(*ig.Txn) {}

func testRegistry(t *testing.T) *ig.Registry {
	var reg ig.Registry
	if err := reg.Register(specT01, func() ig.Check { return warnA01{} }); err != nil {
		t.Fatal(err)
	}
	return &reg
}

func t01(body ...string) string {
	var b strings.Builder
	b.WriteString("ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260115*1200*^*00501*000000001*0*T*:~\n")
	b.WriteString("GS*ZZ*SENDER*RECEIVER*20260115*1200*1*X*TEST01~\nST*T01*0001~\n")
	for _, s := range body {
		b.WriteString(s + "~\n")
	}
	b.WriteString("SE*" + strconv.Itoa(len(body)+2) + "*0001~\nGE*1*1~\nIEA*1*000000001~\n")
	return b.String()
}

func TestHandWrittenSpec(t *testing.T) {
	reg := testRegistry(t)
	tests := []struct {
		name   string
		body   []string
		want   []string
		status ig.Status
	}{
		{"good", []string{"A01*X*A:B:C*R1^R2^R3*H*O"}, nil, ig.Accepted},
		{"composite paired components", []string{"A01*X*A:B"}, []string{"IK4/2 A01 L1 @2 e2.3"}, ig.Rejected},
		{"composite required component", []string{"A01*X*:B:C"}, []string{"IK4/1 A01 L1 @2 e2.1"}, ig.Rejected},
		{"list conditional", []string{"A01*X***H"}, []string{"IK4/2 A01 L1 @2 e5"}, ig.Rejected},
		{"too many repetitions", []string{"A01*X**R1^R2^R3^R4"}, []string{"IK4/12 A01 L1 @2 e3"}, ig.Rejected},
		{"bad value in a repetition", []string{"A01*X**R1^R2345678901"}, []string{"IK4/5 A01 L1 @2 e3"}, ig.Rejected},
		{"not used element", []string{"A01*X******5"}, []string{"IK4/I10 A01 L1 @2 e7"}, ig.Rejected},
		{"too many elements", []string{"A01*X*******5"}, []string{"IK4/3 A01 L1 @2 e8"}, ig.Rejected},
		{"not used segment", []string{"A01*X", "B01*Y"}, []string{"IK3/I4 B01 L1 @3"}, ig.Rejected},
		{"not used loop", []string{"A01*X", "C01*Y"}, []string{"IK3/I4 C01 L2 @3"}, ig.Rejected},
		{"loop repeat", []string{"A01*X", "A01*X", "A01*X"}, []string{"IK3/4 A01 L1 @4"}, ig.Rejected},
		{"qualifier not matched", []string{"A01*Y"}, []string{"IK3/2 A01 @2", "IK3/3 A01 L1 @3"}, ig.Rejected},
		{"semantic check warning", []string{"A01*X****WARN*O"}, []string{"IK4/I12 A01 L1 @2 e5"}, ig.AcceptedWithErrors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := validate(t, t01(tt.body...), ig.Options{Registry: reg})
			if got := keys(res.findings); !slices.Equal(got, slices.Sorted(slices.Values(tt.want))) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
			if len(res.transactions) != 1 || res.transactions[0].Status != tt.status {
				t.Fatalf("transactions %+v", res.transactions)
			}
			wantGroup := map[ig.Status]ig.Status{ig.Accepted: ig.Accepted, ig.AcceptedWithErrors: ig.AcceptedWithErrors, ig.Rejected: ig.Rejected}[tt.status]
			if res.groups[0].Status != wantGroup {
				t.Errorf("group status %s, want %s", res.groups[0].Status, wantGroup)
			}
		})
	}
}

func TestRegisterRejectsBadSpecs(t *testing.T) {
	seg := func(id string, els ...ig.Element) *ig.Segment {
		return &ig.Segment{ID: id, Usage: ig.Required, Elements: els}
	}
	an := ig.Element{Ref: "1", Usage: ig.Required, Type: ig.AN, Min: 1, Max: 5}
	tests := []struct {
		name string
		spec *ig.Spec
	}{
		{"no SE", &ig.Spec{SetID: "T02", Version: "V", Children: []ig.Node{seg("ST", an)}}},
		{"no version", &ig.Spec{SetID: "T02", Children: []ig.Node{seg("ST", an), seg("SE", an)}}},
		{"bad rule", &ig.Spec{SetID: "T02", Version: "V", Children: []ig.Node{&ig.Segment{ID: "ST", Syntax: []ig.Rule{"P02"}, Elements: []ig.Element{an, an}}, seg("SE", an)}}},
		{"rule past the elements", &ig.Spec{SetID: "T02", Version: "V", Children: []ig.Node{&ig.Segment{ID: "ST", Syntax: []ig.Rule{"P0109"}, Elements: []ig.Element{an}}, seg("SE", an)}}},
		{"bad type", &ig.Spec{SetID: "T02", Version: "V", Children: []ig.Node{seg("ST", ig.Element{Usage: ig.Required, Type: "XX", Min: 1, Max: 1}), seg("SE", an)}}},
		{"bad segment ID", &ig.Spec{SetID: "T02", Version: "V", Children: []ig.Node{seg("ST", an), seg("se", an)}}},
		{"loop without a trigger", &ig.Spec{SetID: "T02", Version: "V", Children: []ig.Node{seg("ST", an), &ig.Loop{ID: "L", Children: []ig.Node{&ig.Loop{ID: "M", Children: []ig.Node{seg("A01", an)}}}}, seg("SE", an)}}},
	}
	for _, tt := range tests {
		var reg ig.Registry
		if err := reg.Register(tt.spec); err == nil {
			t.Errorf("%s: Register accepted it", tt.name)
		}
	}
}

// Use takes a spec without compiling it: the bad one is refused only by
// Register, and the shared registry takes none.
func TestUseDefersCompiling(t *testing.T) {
	bad := &ig.Spec{SetID: "T03", Version: "V", Children: []ig.Node{&ig.Segment{ID: "ST", Usage: ig.Required}}}
	var reg ig.Registry
	if err := reg.Use(bad); err != nil {
		t.Errorf("Use compiled the spec: %v", err)
	}
	if reg.Lookup("V", "T03") != bad {
		t.Error("Use did not add the spec")
	}
	if err := reg.Register(bad); err == nil {
		t.Error("Register accepted a spec without SE")
	}
	if err := ig.Default().Use(bad); err == nil {
		t.Error("Use changed the shared registry")
	}
}

func TestRuleParse(t *testing.T) {
	k, pos, err := ig.Rule("L100405").Parse()
	if err != nil || k != 'L' || !slices.Equal(pos, []int{10, 4, 5}) {
		t.Errorf("got %c %v %v", k, pos, err)
	}
	for _, bad := range []ig.Rule{"", "P01", "X0102", "P01a2", "P0002"} {
		if _, _, err := bad.Parse(); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestCodeLists(t *testing.T) {
	if !ig.StableCodeLists("states", []byte("CA")) || ig.StableCodeLists("states", []byte("XX")) {
		t.Error("states")
	}
	if !ig.StableCodeLists("pos", []byte("10")) || ig.StableCodeLists("pos", []byte("00")) {
		t.Error("place of service")
	}
	// Lists updated several times a year are not enforced by default.
	if !ig.StableCodeLists("claim_status", []byte("99999")) || ig.SnapshotCodeLists("claim_status", []byte("99999")) {
		t.Error("claim status")
	}
	// A caller can supply its own lists.
	ls := lines(readTestdata(t, "837p-clean.x12"))
	res := validate(t, join(ls, false), ig.Options{CodeList: func(list string, code []byte) bool { return list != "states" }})
	if got := keys(res.findings); !slices.Equal(got, []string{"IK4/7 N4 2010BA @17 e2", "IK4/7 N4 2010BA @36 e2"}) {
		t.Errorf("custom code lists: %q", got)
	}
}
