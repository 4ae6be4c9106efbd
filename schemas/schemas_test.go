package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/internal/csvtable"
	"github.com/calaim-gateway/calaim-gateway/schemas"
)

func load(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := schemas.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func embeddedSet(t *testing.T) *schemas.Set {
	t.Helper()
	s, err := schemas.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// edit sets (or with del, removes) the value at a JSON pointer.
func edit(t *testing.T, doc any, ptr string, val any, del bool) {
	t.Helper()
	parts := strings.Split(ptr, "/")[1:]
	cur := doc
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if del {
					delete(c, p)
				} else {
					c[p] = val
				}
				return
			}
			cur = c[p]
		case []any:
			n, err := strconv.Atoi(p)
			if err != nil {
				t.Fatalf("%s: %v", ptr, err)
			}
			if last {
				c[n] = val
				return
			}
			cur = c[n]
		default:
			t.Fatalf("%s: no container at %s", ptr, p)
		}
	}
}

func TestValidFilesPass(t *testing.T) {
	s := embeddedSet(t)
	if v := s.ValidateMonthly(load(t, "testdata/valid.json")); len(v) != 0 {
		t.Errorf("valid.json: %v", v)
	}
	if v := s.ValidateResponse(load(t, "testdata/response.json")); len(v) != 0 {
		t.Errorf("response.json: %v", v)
	}
}

// negative lists, per data set and for the header, values the schema must
// refuse, each with the pointer and keyword the violation names.
var negative = []struct {
	name    string
	at      string
	val     any
	del     bool
	pointer string
	keyword string
}{
	{"header without planParent", "/header/planParent", nil, true, "/header", "required"},
	{"planParent over 30", "/header/planParent", strings.Repeat("P", 31), false, "/header/planParent", "maxLength"},
	{"submissionType not spelled out", "/header/submissionType", "O", false, "/header/submissionType", "enum"},
	{"submissionDate with dashes", "/header/submissionDate", "2026-11-05", false, "/header/submissionDate", "pattern"},
	{"generatedAt not a date-time", "/header/generatedAt", "yesterday", false, "/header/generatedAt", "format"},
	{"recordCounts missing a data set", "/header/recordCounts/outreach", nil, true, "/header/recordCounts", "required"},
	{"negative count", "/header/recordCounts/outreach", json.Number("-1"), false, "/header/recordCounts/outreach", "minimum"},
	{"unknown top-level array", "/extra", []any{}, false, "", "additionalProperties"},
	{"missing data set array", "/outreach", nil, true, "", "required"},
	{"data set not an array", "/outreach", map[string]any{}, false, "/outreach", "type"},
	{"header not an object", "/header", "H", false, "/header", "type"},

	{"ecmEnrollment: CIN with 9 digits", "/ecmEnrollment/0/cin", "912345678", false, "/ecmEnrollment/0/cin", "pattern"},
	{"ecmEnrollment: status code", "/ecmEnrollment/0/enrollmentStatus", "E", false, "/ecmEnrollment/0/enrollmentStatus", "enum"},
	{"ecmEnrollment: endDate not a date", "/ecmEnrollment/0/ecmEndDate", "20261345", false, "/ecmEnrollment/0/ecmEndDate", "oneOf"},
	{"ecmEnrollment: planCode of 2", "/ecmEnrollment/0/planCode", "30", false, "/ecmEnrollment/0/planCode", "pattern"},
	{"ecmEnrollment: unknown field", "/ecmEnrollment/0/name", "X", false, "/ecmEnrollment/0", "additionalProperties"},
	{"ecmEnrollment: recordType lower case", "/ecmEnrollment/0/recordType", "original", false, "/ecmEnrollment/0/recordType", "enum"},
	{"ecmEnrollment: Original with a parent", "/ecmEnrollment/0/parentRecordId", "ENR-1", false, "/ecmEnrollment/0", "not"},

	{"populationsOfFocus: POF id instead of name", "/populationsOfFocus/0/populationOfFocus", "POF1A", false, "/populationsOfFocus/0/populationOfFocus", "enum"},
	{"populationsOfFocus: no cin", "/populationsOfFocus/0/cin", nil, true, "/populationsOfFocus/0", "required"},

	{"outreach: outcome code", "/outreach/0/outreachOutcome", "S", false, "/outreach/0/outreachOutcome", "enum"},
	{"outreach: NPI of 9", "/outreach/0/providerNpi", "123456789", false, "/outreach/0/providerNpi", "pattern"},
	{"outreach: lower-case modifier", "/outreach/0/modifiers", []any{"u8"}, false, "/outreach/0/modifiers/0", "pattern"},
	{"outreach: method absent", "/outreach/0/outreachMethod", nil, true, "/outreach/0", "required"},
	{"outreach: method as a modifier", "/outreach/0/outreachMethod", "GQ", false, "/outreach/0/outreachMethod", "enum"},

	{"ecmAuthorizations: Resubmission without parent", "/ecmAuthorizations/0/parentRecordId", nil, true, "/ecmAuthorizations/0", "required"},
	{"ecmAuthorizations: status Pending", "/ecmAuthorizations/0/authorizationStatus", "Pending", false, "/ecmAuthorizations/0/authorizationStatus", "enum"},
	{"ecmAuthorizations: negative turnaround", "/ecmAuthorizations/0/turnaroundDays", json.Number("-2"), false, "/ecmAuthorizations/0/turnaroundDays", "oneOf"},
	{"ecmAuthorizations: requestDate absent", "/ecmAuthorizations/0/requestDate", nil, true, "/ecmAuthorizations/0", "required"},

	{"leadCareManager: assignmentDate null", "/leadCareManager/0/assignmentDate", nil, false, "/leadCareManager/0/assignmentDate", "type"},

	{"ecmProviderNetwork: county 59", "/ecmProviderNetwork/0/county", "59", false, "/ecmProviderNetwork/0/county", "pattern"},
	{"ecmProviderNetwork: negative capacity", "/ecmProviderNetwork/0/capacityCurrent", json.Number("-1"), false, "/ecmProviderNetwork/0/capacityCurrent", "oneOf"},
	{"ecmProviderNetwork: POF repeated", "/ecmProviderNetwork/0/populationsOfFocus", []any{"Birth equity population of focus", "Birth equity population of focus"}, false, "/ecmProviderNetwork/0/populationsOfFocus", "uniqueItems"},

	{"csAuthorizations: CS id instead of name", "/csAuthorizations/0/communitySupport", "CS02", false, "/csAuthorizations/0/communitySupport", "enum"},
	{"csAuthorizations: authorizationType code", "/csAuthorizations/0/authorizationType", "initial", false, "/csAuthorizations/0/authorizationType", "enum"},

	{"csServicesReceived: money without cents", "/csServicesReceived/0/billedAmount", "210", false, "/csServicesReceived/0/billedAmount", "pattern"},
	{"csServicesReceived: money as number", "/csServicesReceived/0/billedAmount", json.Number("210.00"), false, "/csServicesReceived/0/billedAmount", "type"},
	{"csServicesReceived: HCPCS lower case", "/csServicesReceived/0/procedureCode", "s5170", false, "/csServicesReceived/0/procedureCode", "pattern"},

	{"csUtilization: zero members", "/csUtilization/0/membersServed", json.Number("0"), false, "/csUtilization/0/membersServed", "minimum"},
	{"csUtilization: units as text", "/csUtilization/0/units", "14", false, "/csUtilization/0/units", "type"},

	{"csProviderNetwork: unknown support", "/csProviderNetwork/0/communitySupports", []any{"Rent"}, false, "/csProviderNetwork/0/communitySupports/0", "enum"},

	{"closedLoopReferrals: Void without parent", "/closedLoopReferrals/0/parentRecordId", nil, true, "/closedLoopReferrals/0", "required"},
	{"closedLoopReferrals: status code", "/closedLoopReferrals/0/referralStatus", "A", false, "/closedLoopReferrals/0/referralStatus", "enum"},

	{"transitionalRent: negative services", "/transitionalRent/0/servicesReceived", json.Number("-1"), false, "/transitionalRent/0/servicesReceived", "minimum"},
	{"transitionalRent: money with 3 decimals", "/transitionalRent/0/billedAmount", "1500.000", false, "/transitionalRent/0/billedAmount", "pattern"},
}

// Every data set has at least one negative case.
func TestEveryDataSetHasNegativeCases(t *testing.T) {
	for _, ds := range schemas.DataSets {
		if !slices.ContainsFunc(negative, func(n struct {
			name    string
			at      string
			val     any
			del     bool
			pointer string
			keyword string
		}) bool {
			return strings.HasPrefix(n.at, "/"+ds+"/")
		}) {
			t.Errorf("no negative case for %s", ds)
		}
	}
}

func TestNegativeCases(t *testing.T) {
	s := embeddedSet(t)
	for _, tc := range negative {
		t.Run(tc.name, func(t *testing.T) {
			doc := load(t, "testdata/valid.json")
			edit(t, doc, tc.at, tc.val, tc.del)
			got := s.ValidateMonthly(doc)
			if !slices.ContainsFunc(got, func(v schemas.Violation) bool { return v.Pointer == tc.pointer && v.Keyword == tc.keyword }) {
				t.Fatalf("want %s %s, got %v", tc.pointer, tc.keyword, got)
			}
			if len(got) != 1 {
				t.Errorf("want one violation, got %v", got)
			}
		})
	}
}

// splitValidate validates a document as the streaming builder and
// calgw validate do: ValidateMonthlyStream over its JSON text.
func splitValidate(t *testing.T, s *schemas.Set, doc any) []schemas.Violation {
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out []schemas.Violation
	if _, err := s.ValidateMonthlyStream(bytes.NewReader(data), func(v schemas.Violation) { out = append(out, v) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// Record-by-record validation (ValidateMonthlyStream) gives the whole
// document's verdicts, on the valid file and on each negative case.
func TestStreamMatchesWholeDocument(t *testing.T) {
	s := embeddedSet(t)
	cases := append([]struct {
		name    string
		at      string
		val     any
		del     bool
		pointer string
		keyword string
	}{{name: "valid"}}, negative...)
	for _, tc := range cases {
		doc := load(t, "testdata/valid.json").(map[string]any)
		if tc.at != "" {
			edit(t, doc, tc.at, tc.val, tc.del)
		}
		whole := s.ValidateMonthly(doc)
		split := splitValidate(t, s, doc)
		key := func(v schemas.Violation) string { return v.Pointer + " " + v.Keyword }
		w, sp := sortedKeys(whole, key), sortedKeys(split, key)
		if !slices.Equal(w, sp) {
			t.Errorf("%s: whole %v, record by record %v", tc.name, w, sp)
		}
	}
}

func sortedKeys(vs []schemas.Violation, key func(schemas.Violation) string) []string {
	var out []string
	for _, v := range vs {
		out = append(out, key(v))
	}
	slices.Sort(out)
	return out
}

func TestDataSetsMatchTheSchema(t *testing.T) {
	doc := embeddedSet(t).Doc(schemas.MonthlyFile).(map[string]any)
	var arrays []string
	for k := range doc["properties"].(map[string]any) {
		if k != "header" {
			arrays = append(arrays, k)
		}
	}
	slices.Sort(arrays)
	want := slices.Sorted(slices.Values(schemas.DataSets))
	if !slices.Equal(arrays, want) {
		t.Errorf("schema arrays %v, DataSets %v", arrays, want)
	}
}

// The enumerations of POFs and Community Supports spell out the names of
// the gateway's own tables (rules/data), in id order.
func TestEnumerationsFollowTheRuleTables(t *testing.T) {
	defs := embeddedSet(t).Doc(schemas.MonthlyFile).(map[string]any)["$defs"].(map[string]any)
	enum := func(name string) []string {
		var out []string
		for _, v := range defs[name].(map[string]any)["enum"].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	read := func(file string, idCol, nameCol string, keep func(id string) bool) []string {
		f, err := os.Open(filepath.Join("..", "rules", "data", file))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		tab, err := csvtable.NewReader(f, file, idCol, nameCol)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]string{}
		for {
			err := tab.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if r := tab.Row(); keep(r.Get(idCol)) {
				byID[r.Get(idCol)] = r.Get(nameCol)
			}
		}
		var out []string
		for _, id := range slices.Sorted(func(yield func(string) bool) {
			for k := range byID {
				if !yield(k) {
					return
				}
			}
		}) {
			out = append(out, byID[id])
		}
		return out
	}
	if got, want := enum("populationOfFocus"), read("pofs.csv", "id", "name", func(string) bool { return true }); !slices.Equal(got, want) {
		t.Errorf("populationOfFocus enum %q, pofs.csv %q", got, want)
	}
	if got, want := enum("communitySupport"), read("hcpcs_ecm_cs.csv", "service_id", "service_name", func(id string) bool { return id != "ECM" }); !slices.Equal(got, want) {
		t.Errorf("communitySupport enum %q, coding table %q", got, want)
	}
}

// A schemas_dir file using a keyword the validator does not apply is
// refused at Load, the error naming the file and the keyword's JSON
// pointer; one the validator applies in full replaces ours.
func TestLoadRefusesWhatItCannotApply(t *testing.T) {
	data, err := os.ReadFile(schemas.MonthlyFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, keyword string
		val           any
		want          string // "" = loads
	}{
		{"dependentRequired", "dependentRequired", map[string]any{"planParent": []any{"reportingPeriod"}}, "#/$defs/header/dependentRequired: keyword \"dependentRequired\" is not supported"},
		{"unevaluatedProperties", "unevaluatedProperties", false, "#/$defs/header/unevaluatedProperties"},
		{"format hostname", "format", "hostname", "#/$defs/header/format: format \"hostname\" is not supported"},
		{"an x- annotation", "x-dhcs-note", "from DHCS", ""},
		{"maxProperties", "maxProperties", json.Number("40"), "#/$defs/header/maxProperties"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := schemas.Decode(data)
			if err != nil {
				t.Fatal(err)
			}
			doc.(map[string]any)["$defs"].(map[string]any)["header"].(map[string]any)[tc.keyword] = tc.val
			out, _ := json.Marshal(doc)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, schemas.MonthlyFile), out, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := schemas.Load(dir)
			if tc.want == "" {
				if err != nil || s.Origin[schemas.MonthlyFile] != filepath.Join(dir, schemas.MonthlyFile) {
					t.Fatalf("err %v, origin %v", err, s)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, schemas.MonthlyFile)) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want the file and %q", err, tc.want)
			}
		})
	}
}

// Decode keeps numbers exact and refuses anything after the value.
func TestDecode(t *testing.T) {
	v, err := schemas.Decode([]byte(`{"n": 12345678901234567890.10}`))
	if err != nil || v.(map[string]any)["n"] != json.Number("12345678901234567890.10") {
		t.Errorf("%v %v", v, err)
	}
	if _, err := schemas.Decode([]byte(`{} {}`)); err == nil || !strings.Contains(err.Error(), "after the JSON value") {
		t.Errorf("err %v", err)
	}
	if _, err := schemas.Decode([]byte(`{"a":`)); err == nil {
		t.Error("no error for a truncated document")
	}
}
