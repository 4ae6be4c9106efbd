package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultTables(t *testing.T) {
	tab := DefaultTables()
	if len(tab.Counties) != 58 || tab.Counties["19"] != "Los Angeles" || tab.Counties["58"] != "Yuba" {
		t.Errorf("counties: %d, 19=%q 58=%q", len(tab.Counties), tab.Counties["19"], tab.Counties["58"])
	}
	for in, want := range map[string]string{"los angeles": "19", "LOS ANGELES": "19", "19": "19", "1": "01", "San Luis Obispo": "40"} {
		if got, ok := tab.CountyCode(in); !ok || got != want {
			t.Errorf("CountyCode(%q) = %q %v, want %s", in, got, ok, want)
		}
	}
	if _, ok := tab.CountyCode("Atlantis"); ok {
		t.Error("unknown county accepted")
	}
	if len(tab.POFs) != 13 {
		t.Errorf("%d POFs", len(tab.POFs))
	}
	tests := []struct {
		pof, county string
		want        string
	}{
		{"POF1A", "19", "2022-01-01"}, // Los Angeles: Appendix A column 1
		{"POF1A", "10", "2022-07-01"}, // Fresno: column 2
		{"POF2A", "55", "2022-07-01"}, // Tuolumne: missing from Appendix A, inferred
		{"POF5", "19", "2023-01-01"},  // statewide
		{"POF8", "37", "2023-07-01"},
		{"POF9", "01", "2024-01-01"},
	}
	for _, tt := range tests {
		d, ok := tab.POFLiveFrom(tt.pof, tt.county)
		if !ok || d.String() != tt.want {
			t.Errorf("POFLiveFrom(%s, %s) = %v %v, want %s", tt.pof, tt.county, d, ok, tt.want)
		}
	}
	if !tab.StreamlinedPair("POF1A", []string{"street_medicine"}, nil, 20260101) {
		t.Error("street medicine for POF1A is a Figure 5 pair")
	}
	if !tab.StreamlinedPair("POF1A", nil, []string{"CS02"}, 20260101) {
		t.Error("a Housing Deposits provider for POF1A is a Figure 5 pair")
	}
	if tab.StreamlinedPair("POF9", []string{"street_medicine"}, nil, 20260101) {
		t.Error("street medicine is not a Figure 5 pair for POF9 (S004 L1736-1744)")
	}
	if tab.StreamlinedPair("POF4A", []string{"street_medicine", "county_specialty_bh"}, nil, 20260101) {
		t.Error("POF4A has no Figure 5 pairing")
	}
}

func TestTablesOverrideAndErrors(t *testing.T) {
	dir := t.TempDir()
	// A plan extends Figure 5 to community-based organizations for POF9.
	b, _ := embedded.ReadFile("data/figure5_pairs.csv")
	ext := string(b) + "POF9,provider_type,community_based_org,2026-01-01,,plan extension (S004 L1728)\n"
	os.WriteFile(filepath.Join(dir, "figure5_pairs.csv"), []byte(ext), 0o644)
	tab, err := LoadTables(DataFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if !tab.StreamlinedPair("POF9", []string{"community_based_org"}, nil, 20260101) || tab.StreamlinedPair("POF9", []string{"community_based_org"}, nil, 20251231) {
		t.Error("override not applied with its dates")
	}
	os.WriteFile(filepath.Join(dir, "pof_golive.csv"), []byte("pof,county,live_from,source\nPOF99,19,2022-01-01,x\nPOF1A,99,2022-01-01,x\nPOF1A,19,2022-13-01,x\n"), 0o644)
	_, err = LoadTables(DataFS(dir))
	for _, want := range []string{`line 2: unknown POF "POF99"`, `line 3: unknown county code "99"`, "line 4: live_from"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
}
