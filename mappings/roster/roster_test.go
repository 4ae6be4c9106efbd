package roster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

var tables = Tables{Rules: rules.DefaultTables(), Coding: rules.DefaultCodingTable()}

var columns = append(append([]string{}, Required...), Optional...)

// good is a valid row: Bay Street Housing Partners' Mission St site.
func good() map[string]string {
	return map[string]string{
		ColNPI: "1456789019", ColTIN: "94-1234567", ColOrganization: "Bay Street Housing Partners",
		ColSiteName: "Bay Street Mission Office", ColSiteAddress: "1200 Mission St", ColSiteCity: "San Francisco",
		ColSiteState: "CA", ColSiteZip: "94103-1520", ColCounty: "San Francisco", ColPhone: "(415) 555-0142",
		ColTaxonomy: "251s00000x", ColProviderTypes: "community_based_org; housing_provider",
		ColPOFs: "", ColCommunitySupports: "CS01; Housing Deposits; Short-Term Post-Hospitalization Housing; Recuperative Care; Housing Outreach",
		ColContractStart: "2025-01-01", ColContractEnd: "", ColMediCalEnrolled: "Y", ColCapacityCurrent: "85", ColCapacityMax: "120",
		ColLanguages: "en;es", ColAccessibility: "ADA", ColPractitionerNPI: "", ColPractitionerName: "",
	}
}

func decoder(t *testing.T, format tabular.Format) *Decoder {
	t.Helper()
	d, err := NewDecoder(header(columns), format, "roster.csv", tables)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func header(cols []string) *tabular.Header {
	r, err := tabular.NewCSV(strings.NewReader(strings.Join(cols, ",") + "\n"))
	if err != nil {
		panic(err)
	}
	return r.Header
}

func rowOf(number int, m map[string]string) tabular.Row {
	cells := make([]string, len(columns))
	for i, c := range columns {
		cells[i] = m[c]
	}
	return tabular.Row{Number: number, Cells: cells}
}

func TestGoodRow(t *testing.T) {
	var s Site
	if ps := decoder(t, tabular.CSV).Decode(rowOf(2, good()), &s); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	want := Site{NPI: "1456789019", TIN: "941234567", Organization: "Bay Street Housing Partners", Name: "Bay Street Mission Office",
		County: "38", Phone: "4155550142", Taxonomy: "251S00000X", Types: []string{"community_based_org", "housing_provider"},
		CommunitySupports: []string{"CS01", "CS02", "CS04", "CS05", "HO"}, From: 20250101, MediCalEnrolled: true,
		CapacityCurrent: 85, CapacityMax: 120, Languages: []string{"en", "es"}, Accessibility: "ADA"}
	want.Source.File, want.Source.Row = "roster.csv", 2
	want.Address.Street, want.Address.City, want.Address.State, want.Address.Zip = "1200 Mission St", "San Francisco", "CA", "941031520"
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	c := s.Contract()
	if c.NPI != s.NPI || c.County != "38" || !reflect.DeepEqual(c.CommunitySupports, want.CommunitySupports) || !c.Covers(20260901) {
		t.Errorf("contract %+v", c)
	}
}

// TestChecks changes one cell of a good row per case and expects exactly
// one problem, on that column, naming the row.
func TestChecks(t *testing.T) {
	for _, tc := range []struct {
		name, col, value string
		msg              string // part of the message
		missing          bool
	}{
		{"NPI check digit", ColNPI, "1456789010", "fails the check digit", false},
		{"NPI length", ColNPI, "145678901", "not a 10-digit NPI", false},
		{"NPI missing", ColNPI, "", "npi is required", true},
		{"practitioner NPI check digit", ColPractitionerNPI, "1765432104", "fails the check digit", false},
		{"practitioner listed twice", ColPractitionerNPI, "1765432103;1765432103", "listed more than once", false},
		{"TIN", ColTIN, "94-12345", "9-digit tax ID", false},
		{"taxonomy not ending in X", ColTaxonomy, "251S00000Y", "taxonomy code", false},
		{"taxonomy too short", ColTaxonomy, "251S0000X", "taxonomy code", false},
		{"taxonomy punctuation", ColTaxonomy, "251S-0000X", "taxonomy code", false},
		{"county name unknown", ColCounty, "Gotham", "California county", false},
		{"county code unknown", ColCounty, "59", "California county", false},
		{"contract start not a date", ColContractStart, "2025-13-01", "not a date", false},
		{"contract start missing", ColContractStart, "", "contract_start is required", true},
		{"contract end before start", ColContractEnd, "2024-12-31", "before contract_start", false},
		{"contract end not a date", ColContractEnd, "soon", "not a date", false},
		{"unknown POF", ColPOFs, "POF10", "population of focus", false},
		{"unknown Community Support", ColCommunitySupports, "CS01;Housing Magic", "Community Support name", false},
		{"ECM is not a Community Support", ColCommunitySupports, "ECM", "ecm_pofs", false},
		{"unknown provider type", ColProviderTypes, "wizard", "provider type", false},
		{"state", ColSiteState, "XX", "state code", false},
		{"zip", ColSiteZip, "9410", "ZIP code", false},
		{"zip with a trailing hyphen", ColSiteZip, "94103-", "ZIP code", false},
		{"zip with a leading hyphen", ColSiteZip, "-94103", "ZIP code", false},
		{"zip+4 hyphen misplaced", ColSiteZip, "9410-31520", "ZIP code", false},
		{"TIN of zeros", ColTIN, "00-0000000", "tax ID", false},
		{"phone", ColPhone, "555-0142", "phone number", false},
		{"Medi-Cal enrolled", ColMediCalEnrolled, "maybe", "Y or N", false},
		{"capacity", ColCapacityMax, "-3", "whole number", false},
		{"language", ColLanguages, "en;Spanish", "ISO 639", false},
		{"organization too long", ColOrganization, strings.Repeat("x", 61), "longer than 60", false},
		{"organization of 61 characters with accents", ColOrganization, "Clínica " + strings.Repeat("x", 53), "longer than 60", false},
		// 004050X109 NM103 (2100C, 2100DA, 2100EA), N301 and N401 are
		// required; a value in a script X12 text cannot carry would be
		// written empty.
		{"organization in another script", ColOrganization, "東京クリニック", "no character a 274 can carry", false},
		{"site name of delimiters only", ColSiteName, "*~^", "no character a 274 can carry", false},
		{"site address in another script", ColSiteAddress, "中山路", "no character a 274 can carry", false},
		{"site city in another script", ColSiteCity, "Москва", "no character a 274 can carry", false},
		{"practitioner last name in another script", ColPractitionerName, "李, Ming", "no character a 274 can carry", false},
		{"practitioner first name in another script", ColPractitionerName, "Li, 明", "no character a 274 can carry", false},
		{"practitioner names unpaired", ColPractitionerName, "Nguyen, Linh;Doe, Jane", "has 2 name(s) for 0", false},
		{"group NPI check digit", ColGroupNPI, "1234500002", "fails the check digit", false},
		{"group NPI length", ColGroupNPI, "123450000", "not a 10-digit NPI", false},
		{"facility ID with the composite separator", ColFacilityID, "F1;F2", "not a site identifier", false},
		{"facility location ID too long", ColFacilityLocationID, strings.Repeat("L", 31), "not a site identifier", false},
		{"provider location ID punctuation", ColProviderLocationID, "P*1", "not a site identifier", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			m[tc.col] = tc.value
			if tc.col == ColPractitionerNPI {
				m[ColPractitionerName] = strings.TrimSuffix(strings.Repeat("Nguyen, Linh;", strings.Count(tc.value, ";")+1), ";")
			}
			if tc.col == ColPractitionerName && m[ColPractitionerNPI] == "" && !strings.Contains(tc.value, ";") {
				m[ColPractitionerNPI] = "1765432103"
			}
			var s Site
			ps := decoder(t, tabular.CSV).Decode(rowOf(7, m), &s)
			if len(ps) != 1 {
				t.Fatalf("want one problem, got %v", ps)
			}
			p := ps[0]
			if p.Column != tc.col || p.Row != 7 || p.File != "roster.csv" || p.Missing != tc.missing || !strings.Contains(p.Message, tc.msg) {
				t.Errorf("got %+v", p)
			}
			if got := p.String(); !strings.HasPrefix(got, "roster.csv row 7 column "+tc.col+": ") {
				t.Errorf("message %q does not name file, row and column", got)
			}
		})
	}
}

// Provider types place an ECM site in the streamlined-authorization
// Figure 5 pairs: required with ecm_pofs, not for a Community
// Supports-only site.
func TestProviderTypesOnlyForECMSites(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pofs, cs   string
		types      string
		wantColumn string // "" = no problem
	}{
		{"CS-only site without types", "", "CS01", "", ""},
		{"CS-only site with types", "", "CS01", "housing_provider", ""},
		{"ECM site without types", "POF1A", "", "", ColProviderTypes},
		{"ECM and CS site without types", "POF1A", "CS01", "", ColProviderTypes},
		{"ECM site with types", "POF1A", "", "community_based_org", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			m[ColPOFs], m[ColCommunitySupports], m[ColProviderTypes] = tc.pofs, tc.cs, tc.types
			var s Site
			ps := decoder(t, tabular.CSV).Decode(rowOf(4, m), &s)
			switch {
			case tc.wantColumn == "" && len(ps) > 0:
				t.Fatalf("problems: %v", ps)
			case tc.wantColumn != "" && (len(ps) != 1 || ps[0].Column != tc.wantColumn || !ps[0].Missing ||
				!strings.Contains(ps[0].Message, "provider_types is required for a site contracted for ECM")):
				t.Fatalf("want one missing %s, got %v", tc.wantColumn, ps)
			}
		})
	}
}

// A site is contracted for at least one POF or Community Support: cells
// that hold only separators and blanks list none, and provider_types is
// then not asked for.
func TestNeitherPOFNorCS(t *testing.T) {
	for _, tc := range []struct {
		name, pofs, cs, types string
		want                  string // the column of the one problem, "" = none
	}{
		{"both empty", "", "", "", ColPOFs},
		{"CS separators only", "", ";", "", ColPOFs},
		{"CS separators and blanks", "", " ; ; ", "", ColPOFs},
		{"POF separators only, with types", ";", "", "primary_care", ColPOFs},
		{"POF separators only, without types", ";", "", "", ColPOFs},
		{"both separators only", ";", ";", "", ColPOFs},
		{"one CS between separators", "", ";CS01;", "", ""},
		{"one POF between separators", ";POF1A;", "", "primary_care", ""},
		{"one POF between separators, without types", ";POF1A;", "", "", ColProviderTypes},
		{"one POF, types separators only", "POF1A", "", " ; ", ColProviderTypes},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			m[ColPOFs], m[ColCommunitySupports], m[ColProviderTypes] = tc.pofs, tc.cs, tc.types
			var s Site
			ps := decoder(t, tabular.CSV).Decode(rowOf(3, m), &s)
			switch {
			case tc.want == "" && len(ps) > 0:
				t.Errorf("problems %v", ps)
			case tc.want != "" && (len(ps) != 1 || ps[0].Column != tc.want || !ps[0].Missing):
				t.Errorf("want one missing %s, got %v", tc.want, ps)
			}
		})
	}
}

func TestDuplicateSites(t *testing.T) {
	d := decoder(t, tabular.CSV)
	var s Site
	if ps := d.Decode(rowOf(2, good()), &s); len(ps) > 0 {
		t.Fatal(ps)
	}
	// Same NPI, same street written differently, ZIP+4 vs ZIP: the same site.
	m := good()
	m[ColSiteAddress] = "1200  MISSION ST."
	m[ColSiteZip] = "94103"
	ps := d.Decode(rowOf(5, m), &s)
	if len(ps) != 1 || ps[0].Column != ColSiteAddress || !strings.Contains(ps[0].Message, "row 2") {
		t.Errorf("duplicate: %v", ps)
	}
	// Another site of the same NPI is not a duplicate.
	m[ColSiteAddress] = "55 Oak St"
	if ps := d.Decode(rowOf(6, m), &s); len(ps) > 0 {
		t.Errorf("second site: %v", ps)
	}
}

func TestPractitionersAndSpreadsheetValues(t *testing.T) {
	m := good()
	m[ColPractitionerNPI] = "1765432103; 1234567893"
	m[ColPractitionerName] = "Nguyen, Linh; Doe, Jane"
	m[ColContractStart] = "45658" // 2025-01-01 as a spreadsheet serial
	m[ColCapacityMax] = "120.0"
	var s Site
	if ps := decoder(t, tabular.XLSX).Decode(rowOf(2, m), &s); len(ps) > 0 {
		t.Fatal(ps)
	}
	if s.From != 20250101 || s.CapacityMax != 120 || len(s.Practitioners) != 2 || s.Practitioners[1] != (Practitioner{NPI: "1234567893", Last: "Doe", First: "Jane"}) {
		t.Errorf("site %+v", s)
	}
	// In a CSV file the serial is not a date.
	if ps := decoder(t, tabular.CSV).Decode(rowOf(2, m), &s); len(ps) != 2 {
		t.Errorf("CSV: %v", ps)
	}
}

func TestHeader(t *testing.T) {
	if _, err := NewDecoder(header([]string{"npi", "site_address"}), tabular.CSV, "x.csv", tables); !errors.Is(err, ErrNotRoster) || !strings.Contains(err.Error(), "contract_start") {
		t.Errorf("missing columns: %v", err)
	}
	upper := make([]string, len(Required))
	for i, c := range Required {
		upper[i] = strings.ToUpper(c)
	}
	if _, err := NewDecoder(header(upper), tabular.CSV, "x.csv", tables); err != nil {
		t.Errorf("upper-case header: %v", err)
	}
	if !LooksLikeRoster(header(upper)) || LooksLikeRoster(header([]string{"invoice_number", "billing_npi", "member_cin"})) {
		t.Error("LooksLikeRoster")
	}
	if _, err := NewDecoder(header(append(append([]string{}, Required...), ColPractitionerNPI)), tabular.CSV, "x.csv", tables); !errors.Is(err, ErrNotRoster) {
		t.Errorf("practitioner_npi without names: %v", err)
	}
}

// TestShippedRosters decodes the files under testdata/roster: the
// templates and sample rosters are clean, the bad one has the problems
// its README lists.
func TestShippedRosters(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "roster")
	for _, name := range []string{"roster-template.csv", "roster-template.xlsx", "demo-roster.csv", "sample-roster.csv", "sample-roster.xlsx"} {
		res := decodeFile(t, filepath.Join(dir, name))
		if len(res.Problems) > 0 || res.Rows == 0 || len(res.Sites) != res.Rows {
			t.Errorf("%s: %d rows, %d sites, problems %v", name, res.Rows, len(res.Sites), res.Problems)
		}
	}
	csvRes := decodeFile(t, filepath.Join(dir, "sample-roster.csv"))
	xlsxRes := decodeFile(t, filepath.Join(dir, "sample-roster.xlsx"))
	if len(csvRes.Sites) != len(xlsxRes.Sites) {
		t.Fatalf("CSV %d sites, XLSX %d", len(csvRes.Sites), len(xlsxRes.Sites))
	}
	for i := range csvRes.Sites {
		a, b := csvRes.Sites[i], xlsxRes.Sites[i]
		if a.Source.Row != b.Source.Row {
			t.Errorf("site %d: CSV row %d, XLSX row %d", i, a.Source.Row, b.Source.Row)
		}
		a.Source = b.Source
		if !reflect.DeepEqual(a, b) {
			t.Errorf("row %d: CSV and XLSX differ:\n%+v\n%+v", a.Source.Row, a, b)
		}
	}
	bad := decodeFile(t, filepath.Join(dir, "bad-roster.csv"))
	cols := map[string]bool{}
	for _, p := range bad.Problems {
		cols[p.Column] = true
		if p.Row < 2 {
			t.Errorf("problem without a row: %v", p)
		}
	}
	for _, c := range []string{ColNPI, ColTaxonomy, ColCounty, ColContractStart, ColContractEnd, ColPOFs, ColCommunitySupports, ColProviderTypes, ColSiteAddress} {
		if !cols[c] {
			t.Errorf("bad-roster.csv: no problem in column %s; got %v", c, bad.Problems)
		}
	}
}

func decodeFile(t *testing.T, path string) *Result {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	r, err := tabular.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := NewDecoder(r.Header, r.Format, filepath.Base(path), tables)
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.DecodeAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// The optional group NPI and site identifiers are read as given (the 274
// group's NPI; the three parts of REF*N5).
func TestGroupNPIAndSiteIdentifiers(t *testing.T) {
	m := good()
	m[ColGroupNPI], m[ColFacilityID], m[ColFacilityLocationID], m[ColProviderLocationID] = "1234500001", "F-100", "FL.200", strings.Repeat("P", 30)
	var s Site
	if ps := decoder(t, tabular.CSV).Decode(rowOf(2, m), &s); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	if s.GroupNPI != "1234500001" || s.FacilityID != "F-100" || s.FacilityLocationID != "FL.200" || s.ProviderLocationID != strings.Repeat("P", 30) {
		t.Errorf("site %+v", s)
	}
}

// TestDecodeAllWithinMaxProblems decodes a roster whose bad rows are
// followed by good ones, with MaxProblems set low: the first problems are
// kept in row order, the rest counted, the bad rows counted, and no site is
// kept once a row has a problem (the file will not be loaded).
func TestDecodeAllWithinMaxProblems(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("..", "..", "testdata", "roster", "sample-roster.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	body := lines[0] + "\n" + strings.Repeat(strings.Repeat("x,", 22)+"x\n", 3) + strings.Join(lines[1:], "\n") + "\n"
	for _, max := range []int{0, 4} {
		r, err := tabular.NewCSV(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewDecoder(r.Header, r.Format, "r.csv", tables)
		if err != nil {
			t.Fatal(err)
		}
		d.MaxProblems = max
		res, err := d.DecodeAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if res.BadRows != 3 || len(res.Sites) != 0 || res.Rows != len(lines)-1+3 {
			t.Errorf("max %d: %d rows, %d bad, %d sites kept", max, res.Rows, res.BadRows, len(res.Sites))
		}
		total := res.ProblemCount()
		switch {
		case max == 0 && (res.More != 0 || total < 3*10):
			t.Errorf("max 0: %d kept, %d more", len(res.Problems), res.More)
		case max > 0 && (len(res.Problems) != max || res.More != total-max):
			t.Errorf("max %d: %d kept, %d more, %d in all", max, len(res.Problems), res.More, total)
		}
		for i := 1; i < len(res.Problems); i++ {
			if res.Problems[i].Row < res.Problems[i-1].Row {
				t.Errorf("problems out of row order: %v", res.Problems)
			}
		}
	}
}

// A roster of exactly MaxSites rows is read; one more row refuses it,
// naming the first row past the limit.
func TestDecodeAllWithinMaxSites(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("..", "..", "testdata", "roster", "sample-roster.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	n := len(lines) - 1
	for _, tt := range []struct {
		max     int
		refused bool
	}{{0, false}, {n, false}, {n - 1, true}} {
		r, err := tabular.NewCSV(strings.NewReader(string(good)))
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewDecoder(r.Header, r.Format, "r.csv", tables)
		if err != nil {
			t.Fatal(err)
		}
		d.MaxSites = tt.max
		res, err := d.DecodeAll(r)
		if !tt.refused {
			if err != nil || res.Rows != n || len(res.Sites) != n {
				t.Errorf("max %d: %v, %+v", tt.max, err, res)
			}
			continue
		}
		var se *SitesLimitError
		want := fmt.Sprintf("r.csv: row %d: more than %d sites in one roster (limits.roster_sites)", n+1, n-1)
		if !errors.As(err, &se) || !errors.Is(err, tabular.ErrLimit) || !strings.Contains(err.Error(), want) || res != nil {
			t.Errorf("max %d: %v, want %q", tt.max, err, want)
		}
	}
}

// A workbook in the 1904 date system (tabular.Header.Date1904) counts its
// date serials from 1904-01-01: 44197 is 2025-01-02 there, 2021-01-01 in a
// 1900-system workbook.
func TestSpreadsheetDates1904(t *testing.T) {
	m := good()
	m[ColContractStart] = "44197"
	for _, tt := range []struct {
		date1904 bool
		want     civil.Date
	}{{false, 20210101}, {true, 20250102}} {
		h := header(columns)
		h.Date1904 = tt.date1904
		d, err := NewDecoder(h, tabular.XLSX, "roster.xlsx", tables)
		if err != nil {
			t.Fatal(err)
		}
		var s Site
		if ps := d.Decode(rowOf(2, m), &s); len(ps) > 0 || s.From != tt.want {
			t.Errorf("1904 system %v: from %s (%v), want %s", tt.date1904, s.From, ps, tt.want)
		}
	}
}

// The roster limits are characters, as docs/providers.md gives them: an
// accented letter is one character (x12.Text writes it as one byte), so a
// value at the limit with accents is accepted.
func TestLimitsCountCharacters(t *testing.T) {
	for _, tc := range []struct {
		col, value string
		chars      int
	}{
		{ColOrganization, "Clínica Médica " + strings.Repeat("x", 45), 60},
		{ColSiteName, "Señora " + strings.Repeat("y", 53), 60},
		{ColSiteAddress, "Calle Año " + strings.Repeat("1", 45), 55},
		{ColSiteCity, "San José " + strings.Repeat("z", 21), 30},
		{ColAccessibility, "Accès " + strings.Repeat("a", 24), 30},
		{ColPractitionerName, "Núñez" + strings.Repeat("n", 55) + ", José" + strings.Repeat("j", 31), 0},
	} {
		t.Run(tc.col, func(t *testing.T) {
			if got := []rune(tc.value); tc.chars > 0 && len(got) != tc.chars {
				t.Fatalf("test value has %d characters, want %d", len(got), tc.chars)
			}
			m := good()
			m[tc.col] = tc.value
			if tc.col == ColPractitionerName {
				m[ColPractitionerNPI] = "1765432103"
			}
			var s Site
			if ps := decoder(t, tabular.CSV).Decode(rowOf(2, m), &s); len(ps) > 0 {
				t.Errorf("problems: %v", ps)
			}
		})
	}
}

// A roster with a header and no site row is a problem: loaded, it would
// switch PROVIDER-NOT-CONTRACTED on (contract_check auto) with no contract.
func TestDecodeAllNoSiteRow(t *testing.T) {
	for _, body := range []string{"", "\n", "\r\n"} {
		r, err := tabular.NewCSV(strings.NewReader(strings.Join(columns, ",") + "\n" + body))
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewDecoder(r.Header, r.Format, "empty.csv", tables)
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.DecodeAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Problems) != 1 || len(res.Sites) != 0 || !strings.HasPrefix(res.Problems[0].String(), "empty.csv row 1 column -: no site row") {
			t.Errorf("body %q: %+v", body, res)
		}
	}
}

// TestDuplicateSitesAccentsAndCase: rows of one provider whose site name
// or street differ only in accents, case or spacing are the same site (the
// 274 drops accents: both would be one place sent twice); the second is
// reported as a duplicate of the first, as an exact repeat is.
func TestDuplicateSitesAccentsAndCase(t *testing.T) {
	for _, c := range []struct{ name, street, name2, street2 string }{
		{"exact", "12 Main St", "Clínica Esperanza", "12 Main St"},
		{"site name accents, street case", "12 Main St", "Clinica Esperanza", "12 MAIN ST"},
		{"street accents", "300 Avenida Peña", "CLINICA  ESPERANZA", "300 avenida pena"},
		{"street accents decomposed", "7 Calle Éxito", "Clinica Esperanza", "7 calle  E\u0301xito"},
		{"street accents, spacing", "18 Cañón Rd", "Clínica Esperanza", "18  CANON  RD"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := decoder(t, tabular.CSV)
			var s Site
			m := good()
			m[ColSiteName], m[ColSiteAddress] = "Clínica Esperanza", c.street
			if ps := d.Decode(rowOf(2, m), &s); len(ps) > 0 {
				t.Fatal(ps)
			}
			m[ColSiteName], m[ColSiteAddress] = c.name2, c.street2
			ps := d.Decode(rowOf(3, m), &s)
			if len(ps) != 1 || ps[0].Column != ColSiteAddress || !strings.Contains(ps[0].Message, "duplicates the site in row 2") {
				t.Errorf("row 3: %v, want it a duplicate of row 2", ps)
			}
		})
	}
}
