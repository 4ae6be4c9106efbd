package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// The embedded table is HL7 table 0007's codes: A accident, E emergency
// and U urgent stays are unplanned; C elective, R routine, L labor and
// delivery and N newborn stays planned; a stay without PV1-4 and one with
// a code the table does not list count.
func TestAdmissionTypesAreHL7Table0007(t *testing.T) {
	types := rules.DefaultTables().AdmissionTypes
	day := civil.New(2026, 3, 1)
	for _, tc := range []struct {
		code      string
		unplanned bool
		row       string // the row that decides
	}{
		{"A", true, "A"}, {"E", true, "E"}, {"U", true, "U"},
		{"C", false, "C"}, {"R", false, "R"}, {"L", false, "L"}, {"N", false, "N"},
		{"", true, ""}, {"X", true, "*"}, {"*", true, "*"},
	} {
		got, row := types.Unplanned(tc.code, day)
		if got != tc.unplanned || row == nil || row.Code != tc.row || row.Source == "" {
			t.Errorf("%q: unplanned %v by row %+v; want %v by the row coded %q, with a source", tc.code, got, row, tc.unplanned, tc.row)
		}
	}
	if len(types) != 9 {
		t.Errorf("%d rows, want 9 (7 HL7 codes, not sent, any other)", len(types))
	}
}

// writeAdmissionTypes writes a replacement adt_admission_types.csv and
// loads the tables with it.
func writeAdmissionTypes(t *testing.T, rows string) (*rules.Tables, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "adt_admission_types.csv"), []byte("# test\ncode,unplanned,effective_from,effective_to,source\n"+rows), 0o644); err != nil {
		t.Fatal(err)
	}
	return rules.LoadTables(rules.DataFS(dir))
}

// A row decides on the days it is in force, both ends included; a code
// sent takes the * row when its own is not in force; a day no row covers
// counts the stay.
func TestAdmissionTypeEffectiveDates(t *testing.T) {
	tab, err := writeAdmissionTypes(t, `C,no,2024-01-01,2024-12-31,elective planned in 2024
C,yes,2025-01-01,,elective counted from 2025
*,no,2023-06-01,,other codes planned
,no,2023-01-01,2023-12-31,not sent planned in 2023
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code      string
		day       civil.Date
		unplanned bool
		row       string // "-" = no row
	}{
		{"C", civil.New(2024, 1, 1), false, "C"},
		{"C", civil.New(2024, 12, 31), false, "C"},
		{"C", civil.New(2025, 1, 1), true, "C"},
		{"C", civil.New(2023, 12, 31), false, "*"}, // before its rows: any other code
		{"C", civil.New(2023, 5, 31), true, "-"},   // before the * row too
		{"", civil.New(2023, 1, 1), false, ""},
		{"", civil.New(2023, 12, 31), false, ""},
		{"", civil.New(2024, 1, 1), true, "-"}, // "" never takes the * row
		{"", civil.New(2022, 12, 31), true, "-"},
	} {
		got, row := tab.AdmissionTypes.Unplanned(tc.code, tc.day)
		code := "-"
		if row != nil {
			code = row.Code
		}
		if got != tc.unplanned || code != tc.row {
			t.Errorf("%q on %s: unplanned %v by row %q, want %v by %q", tc.code, tc.day, got, code, tc.unplanned, tc.row)
		}
	}
}

// Every problem of the table names its line.
func TestAdmissionTypesErrors(t *testing.T) {
	const both = ",yes,2022-01-01,,not sent\n*,yes,2022-01-01,,other\n"
	for _, tc := range []struct{ rows, want string }{
		{"E,maybe,2022-01-01,,x\n" + both, `line 3: unplanned "maybe": want yes or no`},
		{"E,yes,2022-02-30,,x\n" + both, "line 3: effective_from"},
		{"E,yes,2022-01-01,2021-12-31,x\n" + both, "line 3: effective_to 2021-12-31 is before effective_from 2022-01-01"},
		{"E^X,yes,2022-01-01,,x\n" + both, `line 3: code "E^X"`},
		{"E*,yes,2022-01-01,,x\n" + both, `line 3: code "E*"`},
		{"E,yes,2022-01-01,2024-12-31,x\ne,no,2024-12-31,,y\n" + both, `line 4: code "E" is in force on 2024-12-31 in the row of line 3 too`},
		{"E,yes,2022-01-01,,x\n*,yes,2022-01-01,,other\n", `no row with code "": say whether a stay with no PV1-4 counts`},
		{"E,yes,2022-01-01,,x\n,yes,2022-01-01,,not sent\n", `no row with code "*"`},
	} {
		_, err := writeAdmissionTypes(t, tc.rows)
		if err == nil || !strings.Contains(err.Error(), "adt_admission_types.csv") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to name the table and %q", tc.rows, err, tc.want)
		}
	}
	// Rows of one code that meet without overlapping are accepted.
	if _, err := writeAdmissionTypes(t, "E,yes,2022-01-01,2024-12-30,x\nE,no,2024-12-31,,y\n"+both); err != nil {
		t.Errorf("adjacent rows: %v", err)
	}
}
