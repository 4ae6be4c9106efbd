package programs

import (
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

type rec map[string]string

func (r rec) Get(col string) string { return r[col] }

func TestDecode(t *testing.T) {
	d := &Decoder{Exclusions: rules.DefaultEligibilityTables().Exclusions, File: "programs.csv"}
	tests := []struct {
		row  rec
		want string // field:warning? of each finding
	}{
		{rec{ColMemberCIN: "91234567a", ColProgram: "Hospice", ColStart: "2026-03-01"}, ""},
		{rec{ColMemberCIN: "91234567A", ColProgram: "ccs", ColStart: "2026-03-01", ColEnd: "2026-12-31"}, "program(w)"},
		{rec{ColMemberCIN: "123", ColProgram: "", ColStart: "03/01/2026", ColEnd: "2026-02-01"}, "member_cin program end_date"},
		{rec{ColMemberCIN: "91234567A", ColProgram: "pace", ColStart: ""}, "start_date"},
		{rec{ColMemberCIN: "91234567A", ColProgram: "pace", ColStart: "2026-03-01", ColEnd: "2026-03-01"}, ""}, // one day
		{rec{ColMemberCIN: "91234567A", ColProgram: "pace", ColStart: "2026-03-01", ColEnd: "2026-02-28"}, "end_date"},
	}
	for i, tt := range tests {
		var p domain.ProgramSpan
		got := ""
		for _, f := range d.Decode(tt.row, i+2, &p) {
			if got != "" {
				got += " "
			}
			got += f.Field
			if f.Warning {
				got += "(w)"
			}
		}
		if got != tt.want {
			t.Errorf("row %d: %q, want %q", i+2, got, tt.want)
		}
		if i == 0 && (p.CIN != "91234567A" || p.Program != "hospice" || p.From != 20260301 || p.To != 0 || p.Source != "programs.csv row 2") {
			t.Errorf("decoded %+v", p)
		}
	}
}
