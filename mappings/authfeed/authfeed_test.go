package authfeed

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

func decoder() *Decoder {
	return &Decoder{Coding: rules.DefaultCodingTable(), Tables: rules.DefaultTables(), Data: rules.DefaultEligibilityTables(), File: "feed.csv"}
}

type result struct {
	row      int
	auth     domain.Authorization
	findings []Finding
}

func readAll(t *testing.T, path string) ([]result, []int) {
	t.Helper()
	rows, err := OpenRows(path)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	d := decoder()
	var out []result
	var damaged []int
	for {
		rec, n, err := rows.Next()
		if err == io.EOF {
			break
		}
		var re *RowError
		if errors.As(err, &re) {
			damaged = append(damaged, re.Row)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var r result
		r.row = n
		r.findings = d.Decode(rec, n, &r.auth)
		out = append(out, r)
	}
	return out, damaged
}

func summary(fs []Finding) string {
	var s []string
	for _, f := range fs {
		x := f.Field + ":" + f.Rule
		if f.Warning {
			x += "(w)"
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

func TestCSVFeed(t *testing.T) {
	rs, damaged := readAll(t, "../../testdata/enrollment/auth-feed.csv")
	if len(damaged) != 0 || len(rs) != 14 {
		t.Fatalf("%d rows, damaged %v", len(rs), damaged)
	}
	want := map[string]string{
		"ECM-1001": "",
		"ECM-1002": "end_date:AUTH-FEED-INVALID(w)", // no end: the 12-month policy period
		"ECM-1003": "end_date:AUTH-PERIOD-POLICY",   // initial of 13 months
		"ECM-1004": "",                              // reauthorization of exactly 6 months
		"ECM-1005": "end_date:AUTH-PERIOD-POLICY",   // reauthorization of 7 months
		"SA-2001":  "",
		"SA-2002":  "",
		"JI-3001":  "end_date:AUTH-FEED-INVALID(w)",
		"CS-4001":  "",
		"CS-4002":  "",
		"CS-4003":  "pof:AUTH-FEED-INVALID(w)",
		"CS-4004":  "type:AUTH-PERIOD-POLICY",
		"BAD-5001": "member_cin:AUTH-FEED-INVALID provider_npi:AUTH-FEED-INVALID pof:AUTH-FEED-INVALID status:AUTH-FEED-INVALID type:AUTH-FEED-INVALID start_date:AUTH-FEED-INVALID units_authorized:AUTH-FEED-INVALID",
		"BAD-5002": "service:AUTH-FEED-INVALID end_date:AUTH-FEED-INVALID",
	}
	for _, r := range rs {
		if got := summary(r.findings); got != want[r.auth.Number] {
			t.Errorf("%s (row %d): %q, want %q", r.auth.Number, r.row, got, want[r.auth.Number])
		}
		for _, f := range r.findings {
			if strings.Contains(f.Message, r.auth.CIN) && r.auth.CIN != "" {
				t.Errorf("message repeats the CIN: %s", f.Message)
			}
		}
	}
	a := rs[1].auth
	if a.Service != "ECM" || a.Status != domain.AuthApproved || a.Type != domain.AuthInitial || !a.HasUnits || a.Units != 24000 || a.Source.Row != 3 {
		t.Errorf("case-insensitive values, units: %+v", a)
	}
	if cs := rs[8].auth; cs.Service != "CS02" || cs.POF != "" || cs.ProviderNPI != "1356420681" {
		t.Errorf("CS by name: %+v", cs)
	}
	if sa := rs[5].auth; sa.Status != domain.AuthDenied || sa.Communicated.String() != "2026-02-10" {
		t.Errorf("streamlined denial: %+v", sa)
	}
}

func TestJSONLinesFeed(t *testing.T) {
	rs, damaged := readAll(t, "../../testdata/enrollment/auth-feed.jsonl")
	if len(rs) != 3 || len(damaged) != 1 || damaged[0] != 5 {
		t.Fatalf("%d rows, damaged %v", len(rs), damaged)
	}
	if rs[0].auth.HasUnits || len(rs[0].findings) != 0 {
		t.Errorf("null units: %+v %v", rs[0].auth, rs[0].findings)
	}
	if a := rs[1].auth; a.Service != "CS02" || !a.HasUnits || a.Units != 1000 || a.From.String() != "2026-02-01" || a.POF != "" {
		t.Errorf("number units, MM/DD/YYYY date: %+v %v", a, rs[1].findings)
	}
	if got := summary(rs[2].findings); got != "end_date:AUTH-PERIOD-POLICY" {
		t.Errorf("policy in JSON lines: %s", got)
	}
	if rs[2].row != 4 {
		t.Errorf("row numbers count lines: %d", rs[2].row)
	}
}

// The period limits at their boundaries: an initial authorization of
// exactly 12 months loads, one day more does not; likewise 6 months for a
// reauthorization. Months are calendar months from the start date.
func TestPeriodBoundaries(t *testing.T) {
	tests := []struct {
		typ, from, to string
		want          string
	}{
		{"initial", "2026-01-01", "2026-12-31", ""},
		{"initial", "2026-01-01", "2027-01-01", "end_date:AUTH-PERIOD-POLICY"},
		{"initial", "2026-01-31", "2027-01-30", ""},
		{"initial", "2026-01-31", "2027-01-31", "end_date:AUTH-PERIOD-POLICY"},
		{"reauthorization", "2026-03-15", "2026-09-14", ""},
		{"reauthorization", "2026-03-15", "2026-09-15", "end_date:AUTH-PERIOD-POLICY"},
		{"auto_plan_change", "2026-03-15", "2027-03-14", ""},
		{"auto_plan_change", "2026-03-15", "2027-03-15", "end_date:AUTH-PERIOD-POLICY"},
		{"streamlined", "2026-03-01", "2026-03-30", ""},
		{"streamlined", "2026-03-01", "2026-03-31", "end_date:AUTH-FEED-INVALID(w)"},
		{"initial", "2026-03-15", "2026-03-15", ""}, // one day
		{"initial", "2026-03-15", "2026-03-14", "end_date:AUTH-FEED-INVALID"},
	}
	d := decoder()
	for _, tt := range tests {
		rec := mapRecord{ColNumber: "A-1", ColMemberCIN: "91234567A", ColService: "ECM", ColProviderNPI: "1234567893", ColPOF: "POF1A",
			ColStatus: "approved", ColType: tt.typ, ColStart: tt.from, ColEnd: tt.to}
		var a domain.Authorization
		if got := summary(d.Decode(rec, 2, &a)); got != tt.want {
			t.Errorf("%s %s..%s: %q, want %q", tt.typ, tt.from, tt.to, got, tt.want)
		}
	}
}

// An authorization number is what an invoice names in authorization_number
// and the 837P carries in REF*G1: 1 to 50 printable ASCII characters
// without the X12 delimiters. A number with a control character or a
// character outside ASCII could never be named on an invoice.
func TestAuthorizationNumberCharacters(t *testing.T) {
	tests := []struct {
		number string
		ok     bool
	}{
		{"ECM-1001", true},
		{"ECM 1001", true}, // space is printable
		{"!ECM}", true},    // the printable ASCII ends
		{strings.Repeat("9", 50), true},
		{strings.Repeat("9", 51), false},
		{"ECM*1001", false},
		{"ECM\x1f1001", false}, // below the space
		{"ECM\x7f1001", false}, // DEL
		{"ECM\t1001", false},
		{"ECM\u20131001", false}, // en dash
		{"ECM\u00e91001", false},
	}
	d := decoder()
	for _, tt := range tests {
		rec := mapRecord{ColNumber: tt.number, ColMemberCIN: "91234567A", ColService: "ECM", ColProviderNPI: "1234567893", ColPOF: "POF1A",
			ColStatus: "approved", ColType: "initial", ColStart: "2026-01-01", ColEnd: "2026-12-31"}
		var a domain.Authorization
		fs := d.Decode(rec, 2, &a)
		want := ""
		if !tt.ok {
			want = "authorization_number:AUTH-FEED-INVALID"
		}
		if got := summary(fs); got != want {
			t.Errorf("%q: %q, want %q", tt.number, got, want)
		}
	}
}
