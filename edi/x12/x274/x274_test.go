package x274

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

var when = time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC)

func header() Header {
	return Header{
		Interchange: x12.InterchangeHeader{AuthQualifier: "03", AuthInfo: "202609", SenderQualifier: "ZZ", SenderID: "CALAIMPLAN",
			ReceiverQualifier: "ZZ", ReceiverID: "DHCS-PROVNETWK", Date: when, ControlNumber: 41, Usage: "T"},
		Group:              x12.GroupHeader{SenderCode: "CALAIMPLAN", ReceiverCode: "DHCS-PROVNETWK", Date: when, ControlNumber: 7},
		TransactionControl: 3,
		Purpose:            "27",
		Reference:          "PF-202609-38",
		Created:            when,
		Contact:            &Contact{Name: "EDI Team", Phone: "(916) 555-0100"},
		Source:             Party{Name: "CalAIM Plan", IDQualifier: "PI", ID: "CALAIMPLAN"},
		Receiver:           Party{Name: "California Department of Health Care Services", IDQualifier: "46", ID: "DHCS"},
	}
}

// siteN201 is a site N201 composite of the production file's shape (12
// sub-fields, the county in sub-field 4); siteN202 its N202 (6).
const (
	siteN201 = ";17;;38;0;0;0;0;0;0;0;"
	siteN202 = ";N;;;;N"
)

// groups returns two groups: the first in the production file's shape
// (group NPI with the TIN in N2; the site's composite N2, CRC, LQ*68 with
// TPB, REF*N5 after the specializations, no N4 CY), the second in the
// gateway's earlier one (group TIN, N4 CY).
func groups() []Group {
	return []Group{
		{Name: "Bay Street Housing Partners", IDQualifier: QualNPI, ID: "1234567893", Names: []string{"941234567"}, Sites: []Site{{
			Name: "Bay Street Mission Office", NPI: "1456789019", Names: []string{siteN201, siteN202}, Contact: &Contact{Phone: "415-555-0142"},
			Languages: []string{"en", "es"}, From: 20250101,
			Quantities:  []Quantity{{Qualifier: "ZZ", Value: 120}},
			Conditions:  []Condition{{Category: "DJ", Response: "Y", Indicators: []string{"1S"}}},
			Address:     domain.Address{Street: "1200 Mission St", City: "San Francisco", State: "CA", Zip: "941031520"},
			Specialties: []Specialty{{Qualifier: "68", Code: "251S00000X", Titles: []string{"3G"}}, {Qualifier: "ZZ", Code: "CS01", Titles: []string{"X1", "X2"}}, {Qualifier: "ZZ", Code: "CS02"}},
			References:  []Reference{{Qualifier: "N5", Value: "F100;L200;P300"}},
		}}},
		{Name: "Golden State ECM Collaborative", IDQualifier: QualTIN, ID: "957654321", Sites: []Site{{
			Name: "Golden State Spring Street", NPI: "1582345678", From: 20240701, To: 20271231,
			Names:   []string{"ECM"},
			Address: domain.Address{Street: "450 N Spring St Suite 300", City: "Los Angeles", State: "CA", Zip: "90012"}, County: "19",
			Specialties: []Specialty{{Qualifier: "ZZ", Code: "ECMPOF1A"}},
			Providers:   []Provider{{Last: "Nguyen", First: "Linh", NPI: "1765432103", Specialties: []Specialty{{Qualifier: "68", Code: "163W00000X", Titles: []string{"3E"}}}}},
		}}},
	}
}

func encode(t *testing.T, h Header, gs []Group) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := NewEncoder(&b, x12.DefaultDelimiters, h, x12.WithNewlines())
	for i := range gs {
		if err := enc.Encode(&gs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func validate(t *testing.T, data []byte) ([]ig.Finding, ig.Summary) {
	t.Helper()
	var fs []ig.Finding
	reg := ig.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	v := ig.NewValidator(ig.Options{Registry: reg, OnFinding: func(f *ig.Finding) { fs = append(fs, *f) }})
	sum, err := v.Validate(context.Background(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return fs, sum
}

func TestWrittenFileValidatesClean(t *testing.T) {
	data := encode(t, header(), groups())
	fs, sum := validate(t, data)
	for _, f := range fs {
		t.Errorf("finding: %s", f.String())
	}
	if sum.Transactions != 1 || sum.Accepted != 1 {
		t.Errorf("summary %+v", sum)
	}
	// The values the DHCS companion guide fixes.
	for _, want := range []string{"ISA*03*202609    *", "*ZZ*DHCS-PROVNETWK *", "*^*00405*000000041*", "GS*PW*CALAIMPLAN*DHCS-PROVNETWK*",
		"*7*X*004050X109~", "ST*274*0003*004050X109~", "BHT*0028*27*PF-202609-38*20261001*0930~",
		"HL*1**20*1~", "HL*2*1*21*1~", "HL*3*2*4*1~", "HL*4*3*N*0~", "HL*5*2*4*1~", "HL*6*5*N*1~", "HL*7*6*19*0~",
		"NM1*77*2*Bay Street Mission Office*****XX*1456789019~", "PER*AJ**TE*4155550142~", "LUI*LE*es~",
		"DTP*092*D8*20250101~", "DTP*093*D8*20271231~", "NX1*77~", "N4*San Francisco*CA*941031520~",
		"N4*Los Angeles*CA*90012**CY*19~", "LQ*68*251S00000X~\nTPB*3G~", "CRC*DJ*Y*1S~", "REF*N5*F100;L200;P300~", "NM1*1P*1*Nguyen*Linh****XX*1765432103~", "N2*ECM~", "QTY*ZZ*120~", "IEA*1*000000041~"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("file lacks %q", want)
		}
	}
	// SE01 counts ST..SE.
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	st, se := -1, -1
	for i, l := range lines {
		if strings.HasPrefix(l, "ST*") {
			st = i
		}
		if strings.HasPrefix(l, "SE*") {
			se = i
			if want := "SE*" + strconv.Itoa(se-st+1) + "*0003~"; l != want {
				t.Errorf("trailer %q, want %q", l, want)
			}
		}
	}
}

func TestReadIsTheWriterTwin(t *testing.T) {
	gs := groups()
	data := encode(t, header(), gs)
	f, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if f.AuthQualifier != "03" || f.AuthInfo != "202609" || f.ReceiverID != "DHCS-PROVNETWK" || f.Interchange != 41 || f.GroupControl != 7 || f.Transaction != "0003" {
		t.Errorf("envelope read back: %+v", f)
	}
	// What was written comes back, with the phone as digits and the ZIP as written.
	gs[0].Sites[0].Contact = &Contact{Phone: "4155550142"}
	for i, s := range f.Sites() {
		if s.Ordinal == 0 || s.Line != s.Ordinal || !strings.HasPrefix(strings.Split(string(data), "\n")[s.Line-1], "HL*") {
			t.Errorf("site %d position: ordinal %d line %d", i, s.Ordinal, s.Line)
		}
		s.Ordinal, s.Line = 0, 0
	}
	if !reflect.DeepEqual(f.Groups, gs) {
		t.Errorf("groups read back:\n got %+v\nwant %+v", f.Groups, gs)
	}
	if len(f.Sites()) != 2 {
		t.Errorf("Sites() = %d", len(f.Sites()))
	}
}

func TestEncoderRefuses(t *testing.T) {
	var b bytes.Buffer
	enc := NewEncoder(&b, x12.DefaultDelimiters, header())
	if err := enc.Close(); !errors.Is(err, ErrEmpty) || b.Len() != 0 {
		t.Errorf("empty file: %v, wrote %d bytes", err, b.Len())
	}
	for name, mutate := range map[string]func(g *Group){
		"no sites":        func(g *Group) { g.Sites = nil },
		"no TIN":          func(g *Group) { g.ID = "" },
		"short NPI":       func(g *Group) { g.Sites[0].NPI = "12345" },
		"no start":        func(g *Group) { g.Sites[0].From = 0 },
		"no ZIP":          func(g *Group) { g.Sites[0].Address.Zip = "" },
		"empty specialty": func(g *Group) { g.Sites[0].Specialties = []Specialty{{Qualifier: "ZZ"}} },
		"provider no NPI": func(g *Group) { g.Sites[0].Providers = []Provider{{Last: "X"}} },
	} {
		g := groups()[0]
		mutate(&g)
		enc := NewEncoder(&b, x12.DefaultDelimiters, header())
		if err := enc.Encode(&g); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestBrokenFiles changes one thing in a good file and expects the
// validator to say where: the segment's ordinal in the file, the loop, the
// segment and element, and the acknowledgment code.
func TestBrokenFiles(t *testing.T) {
	good := string(encode(t, header(), groups()))
	ordinal := func(data, prefix string) int64 {
		for i, l := range strings.Split(data, "\n") {
			if strings.HasPrefix(l, prefix) {
				return int64(i + 1)
			}
		}
		t.Fatalf("no segment %q", prefix)
		return 0
	}
	type want struct {
		prefix  string // the segment the finding is on, found in the broken file
		loop    string
		segment string
		element int
		code    string
	}
	for _, tc := range []struct {
		name   string
		broken func(string) string
		want   want
	}{
		{"bad site NPI check digit", func(s string) string {
			return strings.Replace(s, "XX*1456789019~", "XX*1456789010~", 1)
		}, want{"NM1*77*2*Bay", "2100DA", "NM1", 9, ig.ElemPatternMismatch}},
		{"bad provider NPI check digit", func(s string) string {
			return strings.Replace(s, "XX*1765432103~", "XX*1765432104~", 1)
		}, want{"NM1*1P", "2100EA", "NM1", 9, ig.ElemPatternMismatch}},
		{"site NPI not ten digits", func(s string) string {
			return strings.Replace(s, "XX*1582345678~", "XX*15823456~", 1)
		}, want{"NM1*77*2*Golden", "2100DA", "NM1", 9, ig.ElemPatternMismatch}},
		{"segment out of order: N3 before NX1", func(s string) string {
			return strings.Replace(s, "NX1*77~\nN3*1200 Mission St~\n", "N3*1200 Mission St~\nNX1*77~\n", 1)
		}, want{"N3*1200", "2100DA", "N3", 0, ig.SegUnexpected}},
		{"site without its location loop", func(s string) string {
			return strings.Replace(s, "NX1*77~\nN3*450 N Spring St Suite 300~\nN4*Los Angeles*CA*90012**CY*19~\n", "", 1)
		}, want{"LQ*ZZ*ECMPOF1A", "2110DA", "NX1", 0, ig.SegRequiredMissing}},
		{"provider level under a group (loop nesting)", func(s string) string {
			return strings.Replace(s, "HL*7*6*19*0~", "HL*7*5*19*0~", 1)
		}, want{"HL*7*5*19", "2000E", "HL", 2, ig.ElemPatternMismatch}},
		{"HL04 says a child follows but none does", func(s string) string {
			return strings.Replace(s, "HL*4*3*N*0~", "HL*4*3*N*1~", 1)
		}, want{"HL*4*3*N*1", "2000D", "HL", 4, ig.ElemPatternMismatch}},
		{"unknown level code", func(s string) string {
			return strings.Replace(s, "HL*4*3*N*0~", "HL*4*3*X*0~", 1)
		}, want{"HL*4*3*X", "2100C", "HL", 0, ig.SegUnexpected}},
		{"bad contract date", func(s string) string {
			return strings.Replace(s, "DTP*092*D8*20250101~", "DTP*092*D8*20251301~", 1)
		}, want{"DTP*092*D8*20251301", "2100DA", "DTP", 3, ig.ElemInvalidDate}},
		{"bad ZIP", func(s string) string {
			return strings.Replace(s, "CA*941031520~", "CA*9410~", 1)
		}, want{"N4*San Francisco", "2110DA", "N4", 3, ig.ElemPatternMismatch}},
		{"TPB before its LQ", func(s string) string {
			return strings.Replace(s, "LQ*68*251S00000X~\nTPB*3G~\n", "TPB*3G~\nLQ*68*251S00000X~\n", 1)
		}, want{"TPB*3G", "2110DA", "TPB", 0, ig.SegUnexpected}},
		{"CRC response neither Y nor N", func(s string) string {
			return strings.Replace(s, "CRC*DJ*Y*1S~", "CRC*DJ*X*1S~", 1)
		}, want{"CRC*DJ*X", "2100DA", "CRC", 2, ig.ElemInvalidCode}},
		{"CRC without a condition indicator", func(s string) string {
			return strings.Replace(s, "CRC*DJ*Y*1S~", "CRC*DJ*Y~", 1)
		}, want{"CRC*DJ*Y", "2100DA", "CRC", 3, ig.ElemRequiredMissing}},
		{"group NPI check digit", func(s string) string {
			return strings.Replace(s, "XX*1234567893~", "XX*1234567894~", 1)
		}, want{"NM1*QV*2*Bay", "2100C", "NM1", 9, ig.ElemPatternMismatch}},
		{"segment not in the table", func(s string) string {
			return strings.Replace(s, "LUI*LE*en~", "DMG*D8*19700101~", 1)
		}, want{"DMG*D8", "2100DA", "DMG", 0, ig.SegNotInSet}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broken := tc.broken(good)
			if broken == good {
				t.Fatal("the mutation changed nothing")
			}
			fs, sum := validate(t, []byte(broken))
			if sum.Rejected != 1 {
				t.Errorf("the transaction set is not rejected: %+v", sum)
			}
			at := ordinal(broken, tc.want.prefix)
			found := false
			for _, f := range fs {
				if f.Ordinal == at && f.Loop == tc.want.loop && f.Segment == tc.want.segment && f.Element == tc.want.element && f.Code == tc.want.code {
					found = true
					if f.Line != at || f.SetPos == 0 {
						t.Errorf("position of %s: line %d set position %d", f.String(), f.Line, f.SetPos)
					}
				}
			}
			if !found {
				t.Errorf("want a finding at segment %d loop %s %s element %d code %s; got:", at, tc.want.loop, tc.want.segment, tc.want.element, tc.want.code)
				for _, f := range fs {
					t.Errorf("  %s", f.String())
				}
			}
		})
	}
}

func TestCountsAndControlNumbersAreChecked(t *testing.T) {
	good := string(encode(t, header(), groups()))
	for name, tc := range map[string]struct {
		broken func(string) string
		level  ig.Level
		code   string
	}{
		"SE count":         {func(s string) string { return strings.Replace(s, "\nSE*", "\nSE*9", 1) }, ig.LevelTransaction, ig.SetCountMismatch},
		"SE control":       {func(s string) string { return strings.Replace(s, "*0003~\nGE", "*0004~\nGE", 1) }, ig.LevelTransaction, ig.SetControlMismatch},
		"GE count":         {func(s string) string { return strings.Replace(s, "GE*1*7~", "GE*2*7~", 1) }, ig.LevelGroup, ig.GroupCountMismatch},
		"GE control":       {func(s string) string { return strings.Replace(s, "GE*1*7~", "GE*1*8~", 1) }, ig.LevelGroup, ig.GroupControlMismatch},
		"IEA control":      {func(s string) string { return strings.Replace(s, "IEA*1*000000041~", "IEA*1*000000042~", 1) }, ig.LevelInterchange, ig.NoteControlMismatch},
		"wrong functional": {func(s string) string { return strings.Replace(s, "GS*PW*", "GS*HC*", 1) }, ig.LevelGroup, ig.GroupNotSupported},
	} {
		broken := tc.broken(good)
		if broken == good {
			t.Fatalf("%s: the mutation changed nothing", name)
		}
		fs, _ := validate(t, []byte(broken))
		found := false
		for _, f := range fs {
			if f.Level == tc.level && f.Code == tc.code && f.Ordinal > 0 {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no %s finding %s; got %v", name, tc.level, tc.code, fs)
		}
	}
}

// A TPB belongs to the LQ before it: one with no LQ is not placed.
func TestReadRefusesATPBWithoutItsLQ(t *testing.T) {
	data := strings.Replace(string(encode(t, header(), groups())), "NX1*77~", "TPB*3G~\nNX1*77~", 1)
	if _, err := Read(strings.NewReader(data)); err == nil || !strings.Contains(err.Error(), "TPB without the LQ it follows") || !strings.Contains(err.Error(), "segment ") {
		t.Errorf("err = %v", err)
	}
}

// The county of a site is N4 CY when written, else sub-field 4 of its
// composite N201; a plain N2 name is no county.
func TestCountyCode(t *testing.T) {
	for _, tc := range []struct {
		site Site
		want string
	}{
		{Site{Names: []string{siteN201, siteN202}}, "38"},
		{Site{Names: []string{siteN201}, County: "19"}, "19"},
		{Site{Names: []string{"ECM"}}, ""},
		{Site{Names: []string{";17;"}}, ""},
		{Site{}, ""},
	} {
		if got := tc.site.CountyCode(); got != tc.want {
			t.Errorf("%q %q: county %q, want %q", tc.site.Names, tc.site.County, got, tc.want)
		}
	}
	if got := Composite([]string{"", "17", "", "38"}); got != ";17;;38" || SubField(got, 4) != "38" || SubField(got, 5) != "" || SubField(got, 0) != "" {
		t.Errorf("Composite/SubField: %q", got)
	}
}
