package providerfile

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

var tables = roster.Tables{Rules: rules.DefaultTables(), Coding: rules.DefaultCodingTable()}

func defaultMapping(t *testing.T) *rules.ProviderFileMapping {
	t.Helper()
	f, err := rules.DataFS("").Open(rules.ProviderFileMappingFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := rules.ParseProviderFileMapping(f, "provider_file_274.csv", tables.Rules, tables.Coding)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const head = "fact,value,loop,segment,qualifier,code,effective_from,effective_to,source\n"

func TestParseMappingErrors(t *testing.T) {
	for _, tc := range []struct{ name, row, msg string }{
		{"unknown fact", "colour,red,2120DA,LQ,ZZ,RED,2022-01-01,,x", "fact \"colour\""},
		{"unknown POF", "ecm_pof,POF10,2120DA,LQ,ZZ,X,2022-01-01,,x", "value \"POF10\""},
		{"unknown CS", "community_support,Pet Therapy,2120DA,LQ,ZZ,X,2022-01-01,,x", "value \"Pet Therapy\""},
		{"ECM as a CS", "community_support,ECM,2120DA,LQ,ZZ,X,2022-01-01,,x", "value \"ECM\""},
		{"unknown provider type", "provider_type,wizard,2120DA,LQ,ZZ,X,2022-01-01,,x", "value \"wizard\""},
		{"bad target", "ecm_pof,POF1A,2100EA,LQ,ZZ,X,2022-01-01,,x", "loop/segment"},
		{"qualifier too long", "ecm_pof,POF1A,2120DA,LQ,ZZZZ,X,2022-01-01,,x", "qualifier \"ZZZZ\""},
		{"N2 without a sub-field", "program,ECM,2100DA,N2,,ECM,2022-01-01,,x", "N201-k"},
		{"N201 sub-field 13", "site,*,2100DA,N2,N201-13,0,2022-01-01,,x", "N201-k (k 1 to 12)"},
		{"N202 sub-field 7", "site,*,2100DA,N2,N202-7,N,2022-01-01,,x", "N202-k (k 1 to 6)"},
		{"separator in a sub-field", "site,*,2100DA,N2,N201-2,1;7,2022-01-01,,x", "separator ;"},
		{"site with a value", "site,*,2100DA,N2,N201-2,{value},2022-01-01,,x", "fact site has no value"},
		{"site not *", "site,Y,2100DA,CRC,DJ,Y 1S,2022-01-01,,x", "value \"Y\""},
		{"unknown county", "county,99,2100DA,N2,N201-4,{value},2022-01-01,,x", "value \"99\""},
		{"TPB with a qualifier", "taxonomy,*,2120DA,TPB,ZZ,3G,2022-01-01,,x", "takes no qualifier"},
		{"TPB code too long", "taxonomy,*,2120DA,TPB,,3GGG,2022-01-01,,x", "TPB01 is 1 to 3"},
		{"CRC without an indicator", "site,*,2100DA,CRC,DJ,Y,2022-01-01,,x", "CRC takes"},
		{"CRC response not Y/N", "site,*,2100DA,CRC,DJ,X 1S,2022-01-01,,x", "CRC takes"},
		{"REF part 0", "facility_id,*,2100DA,REF,N5-0,{value},2022-01-01,,x", "part k of a composite"},
		{"N4 not the county", "tin,*,2110DA,N4,CY,{value},2022-01-01,,x", "N4 carries the county"},
		{"N2 sub-field twice", "site,*,2100DA,N2,N201-2,17,2022-01-01,,x\nsite,*,2100DA,N2,N201-2,18,2023-01-01,,x", "overlaps line 2"},
		{"delimiter in code", "ecm_pof,POF1A,2120DA,LQ,ZZ,A*B,2022-01-01,,x", "delimiter"},
		{"code too long", "ecm_pof,POF1A,2120DA,LQ,ZZ," + strings.Repeat("X", 31) + ",2022-01-01,,x", "longer than the 30"},
		{"QTY not a count", "program,ECM,2100DA,QTY,ZZ,{value},2022-01-01,,x", "QTY carries a count"},
		{"bad date", "ecm_pof,POF1A,2120DA,LQ,ZZ,X,2022-13-01,,x", "effective_from"},
		{"to before from", "ecm_pof,POF1A,2120DA,LQ,ZZ,X,2022-01-01,2021-01-01,x", "before effective_from"},
		{"no source", "ecm_pof,POF1A,2120DA,LQ,ZZ,X,2022-01-01,,", "source is required"},
		{"overlap", "ecm_pof,POF1A,2120DA,LQ,ZZ,X,2022-01-01,,x\necm_pof,pof1a,2120DA,LQ,ZZ,Y,2023-01-01,,x", "overlaps line 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.ParseProviderFileMapping(strings.NewReader(head+tc.row+"\n"), "m.csv", tables.Rules, tables.Coding)
			if err == nil || !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "m.csv line ") {
				t.Errorf("error %v, want one naming the line and %q", err, tc.msg)
			}
		})
	}
	if _, err := rules.ParseProviderFileMapping(strings.NewReader("fact,value\n"), "m.csv", tables.Rules, tables.Coding); err == nil || !strings.Contains(err.Error(), "missing column") {
		t.Errorf("header: %v", err)
	}
}

func site(npi, tin, org, name, county string, from, to int, pofs, cs []string) roster.Site {
	s := roster.Site{NPI: npi, TIN: tin, Organization: org, Name: name, County: county, Phone: "4155550100", Taxonomy: "251S00000X",
		Types: []string{"community_based_org"}, POFs: pofs, CommunitySupports: cs, From: civil.Date(from), To: civil.Date(to),
		CapacityCurrent: -1, CapacityMax: -1,
		Address: domain.Address{Street: name + " St", City: "Somewhere", State: "CA", Zip: "94103"}}
	s.Source.File, s.Source.Row = "roster.csv", 2
	return s
}

func lq(q, c string) x274.Specialty { return x274.Specialty{Qualifier: q, Code: c} }

func TestMonth(t *testing.T) {
	m, err := ParseMonth("2026-02")
	if err != nil || m.First() != 20260201 || m.Last() != 20260228 || m.Compact() != "202602" || m.String() != "2026-02" {
		t.Errorf("%v %v %v %v", m, err, m.First(), m.Last())
	}
	for _, bad := range []string{"2026-13", "2026-2", "26-02", "2026/02", ""} {
		if _, err := ParseMonth(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestBuildSelectsOrdersAndMaps(t *testing.T) {
	sites := []roster.Site{
		site("1456789019", "941234567", "Bay Street", "Mission", "38", 20240701, 0, nil, []string{"CS01", "CS05", "HO"}),
		site("1582345678", "957654321", "Golden State", "Spring", "19", 20230101, 20271231, []string{"POF1A", "POF3A"}, nil),
		site("1673456780", "770011223", "Valley Meals", "Fresno", "10", 20260930, 0, nil, []string{"CS12"}),        // starts on the month's last day: in
		site("1881234565", "943344556", "East Bay", "Telegraph", "01", 20230401, 20260831, []string{"POF3A"}, nil), // ended the day before: out
		site("1611122239", "952233445", "Harbor", "Avalon", "19", 20261001, 0, []string{"POF2A"}, nil),             // starts the next month: out
		site("1987654328", "957654321", "Golden State", "Broadway", "19", 20220101, 20260901, []string{"POF1A"}, []string{"TR"}),
	}
	sites[1].Practitioners = []roster.Practitioner{{NPI: "1765432103", Last: "Nguyen", First: "Linh"}, {NPI: "1234567893", Last: "Doe", First: "Jane"}}
	m := defaultMapping(t)
	month := Month{2026, 9}
	files, err := Build(sites, month, m)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		for _, g := range f.Groups {
			for _, s := range g.Sites {
				got = append(got, f.County+"/"+g.ID+"/"+s.NPI)
			}
		}
	}
	want := []string{"10/770011223/1673456780", "19/957654321/1582345678", "19/957654321/1987654328", "38/941234567/1456789019"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sites %v, want %v", got, want)
	}
	if files[1].Sites != 2 || files[1].Providers != 2 || len(files[1].Groups) != 1 {
		t.Errorf("county 19: %+v", files[1])
	}
	gs := files[1].Groups[0].Sites[0]
	if gs.Providers[0].NPI != "1234567893" || gs.To != 20271231 || gs.Contact.Phone != "4155550100" {
		t.Errorf("site %+v", gs)
	}
	taxonomy := x274.Specialty{Qualifier: "68", Code: "251S00000X", Titles: []string{"3G"}}
	wantLQ := []x274.Specialty{taxonomy, lq("ZZ", "ECM"), lq("ZZ", "ECM-POF1A"), lq("ZZ", "ECM-POF3A")}
	if !reflect.DeepEqual(gs.Specialties, wantLQ) {
		t.Errorf("LQ %v, want %v", gs.Specialties, wantLQ)
	}
	bay := files[2].Groups[0].Sites[0]
	wantLQ = []x274.Specialty{taxonomy, lq("ZZ", "CS"), lq("ZZ", "CS01"), lq("ZZ", "CS05"), lq("ZZ", "HO")}
	if !reflect.DeepEqual(bay.Specialties, wantLQ) {
		t.Errorf("LQ %v, want %v", bay.Specialties, wantLQ)
	}

	// The order does not depend on the roster's.
	for i := 0; i < 5; i++ {
		shuffled := append([]roster.Site(nil), sites...)
		rand.New(rand.NewSource(int64(i))).Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		again, err := Build(shuffled, month, m)
		if err != nil || !reflect.DeepEqual(again, files) {
			t.Fatalf("shuffle %d: a different layout (%v)", i, err)
		}
	}

	// Every county file is a valid 274.
	for _, f := range files {
		var b bytes.Buffer
		enc := x274.NewEncoder(&b, x12.DefaultDelimiters, x274.Header{
			Interchange: x12.InterchangeHeader{AuthQualifier: "03", AuthInfo: month.Compact(), SenderQualifier: "ZZ", SenderID: "PLAN",
				ReceiverQualifier: "ZZ", ReceiverID: "DHCS-PROVNETWK", Date: time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC), ControlNumber: 1, Usage: "T"},
			Group:              x12.GroupHeader{SenderCode: "PLAN", ReceiverCode: "DHCS-PROVNETWK", Date: time.Date(2026, 10, 2, 8, 0, 0, 0, time.UTC), ControlNumber: 1},
			TransactionControl: 1, Purpose: "27", Reference: "X", Source: x274.Party{Name: "PLAN", IDQualifier: "PI", ID: "PLAN"},
			Receiver: x274.Party{Name: "DHCS", IDQualifier: "46", ID: "DHCS"}})
		for i := range f.Groups {
			if err := enc.Encode(&f.Groups[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		reg := &ig.Registry{}
		if err := x274.Register(reg); err != nil {
			t.Fatal(err)
		}
		sum, err := ig.NewValidator(ig.Options{Registry: reg, OnFinding: func(fd *ig.Finding) { t.Errorf("county %s: %s", f.County, fd.String()) }}).Validate(context.Background(), &b)
		if err != nil || !sum.OK() {
			t.Errorf("county %s: %v %+v", f.County, err, sum)
		}
	}
}

func TestBuildNeverDropsAnIndicator(t *testing.T) {
	m, err := rules.ParseProviderFileMapping(strings.NewReader(head+"ecm_pof,POF1A,2120DA,LQ,ZZ,ECM-POF1A,2022-01-01,,x\n"), "plan-mapping.csv", tables.Rules, tables.Coding)
	if err != nil {
		t.Fatal(err)
	}
	s := site("1582345678", "957654321", "Golden State", "Spring", "19", 20230101, 0, []string{"POF1A", "POF9"}, nil)
	_, err = Build([]roster.Site{s}, Month{2026, 9}, m)
	if err == nil || !strings.Contains(err.Error(), "plan-mapping.csv has no row for ecm_pof POF9") || !strings.Contains(err.Error(), "roster.csv row 2") {
		t.Errorf("err = %v", err)
	}
	// A fact without rows is not written at all (taxonomy, here), and a
	// row not yet in force does not count.
	m, _ = rules.ParseProviderFileMapping(strings.NewReader(head+"ecm_pof,*,2120DA,LQ,ZZ,P-{value},2022-01-01,,x\nprogram,ECM,2100DA,N2,N202-3,ECM SITE,2027-01-01,,x\n"), "m.csv", tables.Rules, tables.Coding)
	files, err := Build([]roster.Site{s}, Month{2026, 9}, m)
	if err != nil {
		t.Fatal(err)
	}
	got := files[0].Groups[0].Sites[0]
	if !reflect.DeepEqual(got.Specialties, []x274.Specialty{lq("ZZ", "P-POF1A"), lq("ZZ", "P-POF9")}) || got.Names != nil {
		t.Errorf("site %+v", got)
	}
}

func TestBuildCapacityAndReferences(t *testing.T) {
	m, err := rules.ParseProviderFileMapping(strings.NewReader(head+
		"capacity_max,*,2100DA,QTY,ZZ,{value},2022-01-01,,x\nmedi_cal_enrolled,Y,2100DA,REF,ZZ,ENROLLED,2022-01-01,,x\nmedi_cal_enrolled,N,2100DA,REF,ZZ,NOT-ENROLLED,2022-01-01,,x\n"), "m.csv", tables.Rules, tables.Coding)
	if err != nil {
		t.Fatal(err)
	}
	s := site("1456789019", "941234567", "Bay Street", "Mission", "38", 20240701, 0, nil, []string{"CS01"})
	s.CapacityMax, s.MediCalEnrolled = 120, true
	files, err := Build([]roster.Site{s}, Month{2026, 9}, m)
	if err != nil {
		t.Fatal(err)
	}
	got := files[0].Groups[0].Sites[0]
	if !reflect.DeepEqual(got.Quantities, []x274.Quantity{{Qualifier: "ZZ", Value: 120}}) || !reflect.DeepEqual(got.References, []x274.Reference{{Qualifier: "ZZ", Value: "ENROLLED"}}) {
		t.Errorf("site %+v", got)
	}
}

// A row that is not CSV is reported, naming the file, not a panic.
func TestParseMappingMalformedRow(t *testing.T) {
	_, err := rules.ParseProviderFileMapping(strings.NewReader(head+"ecm_pof,\"POF1A,2120DA\n"), "m.csv", tables.Rules, tables.Coding)
	if err == nil || !strings.Contains(err.Error(), "m.csv: ") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want the CSV error naming m.csv and line 2", err)
	}
}

func mapping(t *testing.T, rows string) *rules.ProviderFileMapping {
	t.Helper()
	m, err := rules.ParseProviderFileMapping(strings.NewReader(head+rows), "m.csv", tables.Rules, tables.Coding)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func buildOne(t *testing.T, m *rules.ProviderFileMapping, sites ...roster.Site) ([]CountyFile, error) {
	t.Helper()
	return Build(sites, Month{2026, 9}, m)
}

// What decides TPB*3G or TPB*3E is not public: the mapping says it per
// taxonomy value, and the TPB follows every LQ of that value only.
func TestTPBFollowsTheLQOfItsValue(t *testing.T) {
	m := mapping(t, "taxonomy,*,2120DA,LQ,68,{value},2016-05-01,,x\n"+
		"taxonomy,251S00000X,2120DA,TPB,,3G,2016-05-01,,x\ntaxonomy,261QM0801X,2120DA,TPB,,3E,2016-05-01,,x\n"+
		"ecm_pof,*,2120DA,LQ,ZZ,{value},2016-05-01,,x\necm_pof,POF1A,2120DA,TPB,,X1,2016-05-01,,x\n")
	a := site("1456789019", "941234567", "Bay Street", "Mission", "38", 20240701, 0, []string{"POF1A"}, nil)
	b := site("1582345678", "957654321", "Golden State", "Spring", "38", 20230101, 0, []string{"POF1A"}, nil)
	b.Taxonomy = "261QM0801X"
	files, err := buildOne(t, m, a, b)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]x274.Specialty{
		{{Qualifier: "68", Code: "251S00000X", Titles: []string{"3G"}}, {Qualifier: "ZZ", Code: "POF1A", Titles: []string{"X1"}}},
		{{Qualifier: "68", Code: "261QM0801X", Titles: []string{"3E"}}, {Qualifier: "ZZ", Code: "POF1A", Titles: []string{"X1"}}},
	} {
		if got := files[0].Groups[i].Sites[0].Specialties; !reflect.DeepEqual(got, want) {
			t.Errorf("site %d: %+v, want %+v", i, got, want)
		}
	}
	// A TPB row whose value has no LQ in force is refused, naming the row.
	m = mapping(t, "taxonomy,*,2120DA,TPB,,3G,2016-05-01,,x\n")
	if _, err := buildOne(t, m, a); err == nil || !strings.Contains(err.Error(), "m.csv line 2: TPB for taxonomy 251S00000X") {
		t.Errorf("TPB without LQ: %v", err)
	}
}

// The site's N2 is two composites: every sub-field keeps its place, a
// sub-field no row fills is empty, and N202 is written only when a row
// fills one of its sub-fields.
func TestN2Composite(t *testing.T) {
	a := site("1456789019", "941234567", "Bay Street", "Mission", "38", 20240701, 0, nil, []string{"CS01"})
	for _, tc := range []struct {
		name, rows string
		want       []string
	}{
		{"county only", "county,*,2100DA,N2,N201-4,{value},2016-05-01,,x\n", []string{";;;38;;;;;;;;"}},
		{"first and last sub-fields", "tin,*,2100DA,N2,N201-1,{value},2016-05-01,,x\nsite,*,2100DA,N2,N201-12,N,2016-05-01,,x\n", []string{"941234567;;;;;;;;;;;N"}},
		{"N202 alone: N201 is still written", "site,*,2100DA,N2,N202-6,N,2016-05-01,,x\n", []string{";;;;;;;;;;;", ";;;;;N"}},
		{"no N2 row in force", "site,*,2100DA,N2,N202-6,N,2027-01-01,,x\ncounty,*,2110DA,N4,CY,{value},2016-05-01,,x\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files, err := buildOne(t, mapping(t, tc.rows), a)
			if err != nil {
				t.Fatal(err)
			}
			if got := files[0].Groups[0].Sites[0].Names; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("N2 %q, want %q", got, tc.want)
			}
		})
	}
	// Two rows giving one sub-field different values: refused.
	_, err := buildOne(t, mapping(t, "county,*,2100DA,N2,N201-4,{value},2016-05-01,,x\nsite,*,2100DA,N2,N201-4,99,2016-05-01,,x\n"), a)
	if err == nil || !strings.Contains(err.Error(), "m.csv line 2 writes \"38\" where another row wrote \"99\"") {
		t.Errorf("conflict: %v", err)
	}
}

// The county goes where the mapping puts it: N201 sub-field 4 (the
// production file) or, with an N4 row, N4 CY (the gateway's earlier form).
func TestCountyPlacement(t *testing.T) {
	a := site("1456789019", "941234567", "Bay Street", "Mission", "38", 20240701, 0, nil, []string{"CS01"})
	files, err := buildOne(t, defaultMapping(t), a)
	if err != nil {
		t.Fatal(err)
	}
	s := files[0].Groups[0].Sites[0]
	if s.County != "" || x274.SubField(s.Names[0], x274.CountySubField) != "38" || s.CountyCode() != "38" {
		t.Errorf("default mapping: N4 county %q, N2 %q", s.County, s.Names)
	}
	files, err = buildOne(t, mapping(t, "county,*,2110DA,N4,CY,{value},2016-05-01,,x\n"), a)
	if err != nil {
		t.Fatal(err)
	}
	if s := files[0].Groups[0].Sites[0]; s.County != "38" || s.Names != nil {
		t.Errorf("N4 row: county %q, N2 %q", s.County, s.Names)
	}
}

// REF*N5 has as many parts as the highest part in force; a site without
// any part gets none, one with some keeps the empty ones in place; a
// composite longer than REF02 allows is refused.
func TestREFN5Parts(t *testing.T) {
	m := defaultMapping(t)
	a := site("1456789019", "941234567", "Bay Street", "Mission", "38", 20240701, 0, nil, []string{"CS01"})
	refs := func(s roster.Site) ([]x274.Reference, error) {
		files, err := buildOne(t, m, s)
		if err != nil {
			return nil, err
		}
		return files[0].Groups[0].Sites[0].References, nil
	}
	if got, err := refs(a); err != nil || got != nil {
		t.Errorf("no identifiers: %v %v", got, err)
	}
	a.FacilityLocationID = "FL2"
	if got, err := refs(a); err != nil || !reflect.DeepEqual(got, []x274.Reference{{Qualifier: "N5", Value: ";FL2;"}}) {
		t.Errorf("part 2 only: %v %v", got, err)
	}
	a.FacilityID, a.ProviderLocationID = strings.Repeat("F", 13), strings.Repeat("P", 12) // 30 characters with FL2 and two separators
	if got, err := refs(a); err != nil || len(got) != 1 || len(got[0].Value) != 30 {
		t.Errorf("30 characters: %v %v", got, err)
	}
	a.FacilityID += "F"
	if _, err := refs(a); err == nil || !strings.Contains(err.Error(), "longer than the 30 characters REF02 allows") {
		t.Errorf("too long: %v", err)
	}
}

// A group is identified by its NPI (XX) with the TIN in N2 when the roster
// gives one (the production file); else by its TIN (FI) with no N2. Sites
// of one TIN and name under different group NPIs are different groups.
func TestGroupIdentity(t *testing.T) {
	a := site("1456789019", "941234567", "Bay Street", "Mission", "38", 20240701, 0, nil, []string{"CS01"})
	b := site("1582345678", "941234567", "Bay Street", "Spring", "38", 20240701, 0, nil, []string{"CS01"})
	c := site("1673456780", "941234567", "Bay Street", "Valley", "38", 20240701, 0, nil, []string{"CS01"})
	a.GroupNPI, b.GroupNPI = "1234500001", "1234500001"
	files, err := buildOne(t, defaultMapping(t), a, b, c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range files[0].Groups {
		got = append(got, fmt.Sprintf("%s %s %q %d", g.IDQualifier, g.ID, g.Names, len(g.Sites)))
	}
	want := []string{`FI 941234567 [] 1`, `XX 1234500001 ["941234567"] 2`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("groups %q, want %q", got, want)
	}
}

// A roster value placed in one sub-field of a composite (N2 sub-field,
// REF*N5 part) may not hold the separator: it would shift every later
// sub-field. The build stops, naming the mapping line and the roster row.
func TestCompositeValueWithSeparator(t *testing.T) {
	a := site("1456789019", "941234567", "Bay Street", "Mission", "38", 20240701, 0, nil, []string{"CS01"})
	a.Accessibility = "ramp;elevator"
	for _, rows := range []string{
		"accessibility,*,2100DA,N2,N202-3,{value},2016-05-01,,x\n",
		"accessibility,*,2100DA,REF,N5-2,{value},2016-05-01,,x\n",
	} {
		_, err := buildOne(t, mapping(t, rows), a)
		if err == nil || !strings.Contains(err.Error(), "m.csv line 2 writes \"ramp;elevator\"") || !strings.Contains(err.Error(), "roster.csv row 2") {
			t.Errorf("%s: %v", rows, err)
		}
	}
	// Outside a composite (LQ02) the separator is plain text.
	a.Accessibility = "ramp;lift"
	if _, err := buildOne(t, mapping(t, "accessibility,*,2120DA,LQ,ZZ,{value},2016-05-01,,x\n"), a); err != nil {
		t.Errorf("LQ: %v", err)
	}
}

// LQ02 and REF02 hold 30 characters: a roster value that makes a longer
// code stops the build, naming the mapping line and the roster row (it was
// cut to 30 on writing).
func TestCodeOfValueLongerThanItsElement(t *testing.T) {
	a := site("1456789019", "941234567", "Bay Street", "Mission", "38", 20240701, 0, nil, []string{"CS01"})
	a.Accessibility = strings.Repeat("w", 26) // "ACC-" + 26 = 30: fits
	for _, rows := range []string{
		"accessibility,*,2120DA,LQ,ZZ,ACC-{value},2016-05-01,,x\n",
		"accessibility,*,2100DA,REF,ZZ,ACC-{value},2016-05-01,,x\n",
	} {
		a.Accessibility = strings.Repeat("w", 26)
		if _, err := buildOne(t, mapping(t, rows), a); err != nil {
			t.Errorf("30 characters: %s: %v", rows, err)
		}
		a.Accessibility += "w"
		_, err := buildOne(t, mapping(t, rows), a)
		if err == nil || !strings.Contains(err.Error(), "m.csv line 2 writes \"ACC-www") || !strings.Contains(err.Error(), "roster.csv row 2") ||
			!strings.Contains(err.Error(), "longer than the 30 characters") {
			t.Errorf("31 characters: %s: %v", rows, err)
		}
	}
}
