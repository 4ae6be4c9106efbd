package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

func TestDefaultCodingTableLookup(t *testing.T) {
	tab := DefaultCodingTable()
	d2025, d2026 := civil.Date(20250615), civil.Date(20260115)
	tests := []struct {
		name string
		code string
		mods []string
		dos  civil.Date
		want LookupResult
		svc  string
	}{
		{"ECM G9008 U1", "G9008", []string{"U1"}, d2025, CodeAllowed, "ECM"},
		{"ECM outreach", "G9012", []string{"U8"}, d2025, CodeAllowed, "ECM"},
		{"housing deposit", "H0044", []string{"U2"}, d2025, CodeAllowed, "CS02"},
		{"same code other modifier is another service", "H0044", []string{"U3"}, d2025, CodeAllowed, "CS04"},
		{"modifiers in any order", "T1016", []string{"GQ", "U8"}, d2026, CodeAllowed, "HO"},
		{"modifiers in any order, sorted", "T1016", []string{"U8", "GQ"}, d2026, CodeAllowed, "HO"},
		{"v1.3 addition not in force before 2026", "T1016", []string{"U8"}, d2025, CodeNotInForce, ""},
		{"extra modifier not allowed", "H0044", []string{"U2", "GQ"}, d2025, ModifiersNotAllowed, ""},
		{"missing modifier not allowed", "H0044", nil, d2025, ModifiersNotAllowed, ""},
		{"unknown code", "99213", nil, d2025, CodeUnknown, ""},
		{"before CS start", "H0044", []string{"U2"}, 20211231, CodeNotInForce, ""},
		{"first day of CS", "H0044", []string{"U2"}, 20220101, CodeAllowed, "CS02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leg, got := tab.Lookup(tt.code, tt.mods, tt.dos)
			if got != tt.want {
				t.Fatalf("Lookup = %v, want %v", got, tt.want)
			}
			if tt.svc != "" && leg.ServiceID != tt.svc {
				t.Errorf("service = %s, want %s", leg.ServiceID, tt.svc)
			}
		})
	}
}

func TestResolveServiceNames(t *testing.T) {
	tab := DefaultCodingTable()
	dos := civil.Date(20260115)
	tests := []struct {
		name    string
		want    string // code
		wantErr error
	}{
		{"Housing Deposits", "H0044 U2", nil},
		{"housing   deposits", "H0044 U2", nil},
		{"ECM outreach", "G9012 U8", nil},
		{"ECM", "G9008 U1", nil},
		{"Housing Tenancy & Sustaining Services", "", ErrAmbiguousService},
		{"Housing Tenancy and Sustaining Services", "", ErrAmbiguousService},
		{"CS05", "T2033 U6", nil},
		{"Recuperative Care", "T2033 U6", nil},
		{"Housing outreach telephonic", "T1016 U8 GQ", nil},
		{"Personal care services", "T1019 U6", nil},
		{"Transitional Rent", "", ErrAmbiguousService},
		{"Dog walking", "", ErrUnknownService},
	}
	for _, tt := range tests {
		leg, err := tab.Resolve(tt.name, dos)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Resolve(%q) err = %v, want %v", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || leg.Code() != tt.want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", tt.name, leg, err, tt.want)
		}
	}
	// Non-recurring set-up expenses exist from 2026 only.
	if _, err := tab.Resolve("Non-recurring set-up expenses", 20251231); !errors.Is(err, ErrUnknownService) {
		t.Errorf("set-up expenses before 2026: err = %v", err)
	}
}

func TestDefaultTableCoversEverySeedService(t *testing.T) {
	tab := DefaultCodingTable()
	want := []string{"ECM", "CS01", "CS02", "CS03", "CS04", "CS05", "CS06", "CS07", "CS08", "CS09", "CS10", "CS11", "CS12", "CS13", "CS14", "TR", "HO"}
	for _, id := range want {
		if len(tab.ServiceLegs(id)) == 0 {
			t.Errorf("service %s has no legs", id)
		}
	}
}

func TestParseCodingTableErrors(t *testing.T) {
	head := strings.Join(codingColumns, ",") + "\n"
	tests := []struct {
		name, body, want string
	}{
		{"missing column", "service_id,hcpcs\nX,H0044\n", `missing column "service_name"`},
		{"bad code", head + "X,Name,,CS,H004,U2,,,N,,2022-01-01,,src\n", `hcpcs "H004"`},
		{"bad program", head + "X,Name,,FOO,H0044,U2,,,N,,2022-01-01,,src\n", `program "FOO"`},
		{"bad date", head + "X,Name,,CS,H0044,U2,,,N,,2022-13-01,,src\n", "effective_from"},
		{"no source", head + "X,Name,,CS,H0044,U2,,,N,,2022-01-01,,\n", "source is required"},
		{"overlap", head + "X,Name,,CS,H0044,U2,,,N,,2022-01-01,,s\nX,Name,,CS,H0044,U2,,,N,,2023-01-01,,s\n", "overlaps line"},
		{"name clash", head + "X,Name,Alias,CS,H0044,U2,,,N,,2022-01-01,,s\nY,Other,Alias,CS,H0045,U2,,,N,,2022-01-01,,s\n", `names both service`},
		{"two defaults", head + "X,Name,,CS,H0044,U2,Y,,N,,2022-01-01,,s\nX,Name,,CS,H0045,U2,Y,,N,,2022-01-01,,s\n", "two default legs"},
	}
	for _, tt := range tests {
		_, err := ParseCodingTable(strings.NewReader(tt.body), "t.csv")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
	// Closed ranges that do not overlap are fine: a code retired and re-issued.
	ok := head + "X,Name,,CS,H0044,U2,,,N,,2022-01-01,2022-12-31,s\nX,Name,,CS,H0044,U2,,,N,,2023-01-01,,s\n"
	tab, err := ParseCodingTable(strings.NewReader(ok), "t.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, r := tab.Lookup("H0044", []string{"U2"}, 20230101); r != CodeAllowed {
		t.Errorf("re-issued code: %v", r)
	}
}

func TestParseModifiers(t *testing.T) {
	for in, want := range map[string]string{"U8 GQ": "U8,GQ", "u8,gq": "U8,GQ", "U8-GQ": "U8,GQ", "": "", " U6 ": "U6"} {
		got, err := ParseModifiers(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("ParseModifiers(%q) = %v %v", in, got, err)
		}
	}
	for _, in := range []string{"U", "U6 U6", "U6X", "U$"} {
		if _, err := ParseModifiers(in); err == nil {
			t.Errorf("ParseModifiers(%q) accepted", in)
		}
	}
}

// A row that is not CSV is reported with the table's name (it used to make
// the reader panic: the line of a row that failed to parse was asked for).
func TestParseCodingTableMalformedRow(t *testing.T) {
	in := strings.Join(codingColumns, ",") + "\n\"unterminated,row\n"
	_, err := ParseCodingTable(strings.NewReader(in), "coding.csv")
	if err == nil || !strings.Contains(err.Error(), "coding.csv: ") {
		t.Fatalf("err = %v, want an error naming coding.csv", err)
	}
}
