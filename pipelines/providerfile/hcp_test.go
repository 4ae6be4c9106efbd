package providerfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
)

// segmentsOf splits a 274 written with the default delimiters.
func segmentsOf(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, s := range strings.Split(strings.TrimSpace(string(b)), "~") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, strings.Split(s, "*"))
		}
	}
	return out
}

func find(segs [][]string, id string, first ...string) []string {
	for _, s := range segs {
		if s[0] == id && (len(first) == 0 || (len(s) > 1 && s[1] == first[0])) {
			return s
		}
	}
	return nil
}

// A plan with two HCP codes over several counties writes one 274 per HCP
// code, holding the sites of every county of that code, with the envelope
// and heading of the production file (dhcs-observed-formats.md B7 [P]).
func TestOne274PerHCPCodeAsDHCSReceivesIt(t *testing.T) {
	e := newEnv(t, "demo-roster.csv", "sample-roster.csv")
	p := e.cfg.Partners[config.ProvidersPartner]
	p.Plan.Name, p.Plan.TIN = "PLAN", "951234567"
	p.Plan.HCPCodes = map[string]string{"01": "305", "10": "305", "19": "306", "20": "306", "37": "306", "38": "306"}
	e.cfg.Partners[config.ProvidersPartner] = p
	res := e.run(t, "2026-09", "out")
	var names []string
	for _, f := range res.Files {
		names = append(names, filepath.Base(f.Path))
	}
	want := []string{"PLAN_305_274_20261002_00001.dat", "PLAN_306_274_20261002_00001.dat"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v", names, want)
	}
	if got := strings.Join(res.Files[1].Counties, " "); got != "19 20 37 38" {
		t.Errorf("HCP 306 file counties %q, want every county of the code", got)
	}
	for i, hcp := range []string{"305", "306"} {
		segs := segmentsOf(t, res.Files[i].Path)
		tests := []struct {
			fact string
			ok   func() bool
		}{
			{"ISA02 is the reporting period YYMM", func() bool { return strings.TrimSpace(find(segs, "ISA")[2]) == "2609" }},
			{"ISA06 is TIN + HCP code", func() bool { return strings.TrimSpace(find(segs, "ISA")[6]) == "951234567"+hcp }},
			{"ISA08 is DHCS-PROV-NETWK", func() bool { return strings.TrimSpace(find(segs, "ISA")[8]) == "DHCS-PROV-NETWK" }},
			{"GS02 is the TIN", func() bool { return find(segs, "GS")[2] == "951234567" }},
			{"GS03 is DHCS-PROV-NETWK", func() bool { return find(segs, "GS")[3] == "DHCS-PROV-NETWK" }},
			{"heading PER*BJ", func() bool { return find(segs, "PER") != nil && find(segs, "PER")[1] == "BJ" }},
			{"heading DTM*507 extract date", func() bool { d := find(segs, "DTM", "507"); return d != nil && d[2] == "20261002" }},
			{"NM1*ACV with FI and the TIN", func() bool {
				n := find(segs, "NM1", "ACV")
				return len(n) == 10 && n[8] == "FI" && n[9] == "951234567"
			}},
			{"NM1*NN*2*DEFAULT follows NM1*ACV", func() bool {
				for j, s := range segs {
					if s[0] == "NM1" && s[1] == "ACV" {
						return strings.Join(segs[j+1], "*") == "NM1*NN*2*DEFAULT"
					}
				}
				return false
			}},
			{"NM1*40*2*DHCS Managed Care with no ID", func() bool { return strings.Join(find(segs, "NM1", "40"), "*") == "NM1*40*2*DHCS Managed Care" }},
		}
		for _, tt := range tests {
			if !tt.ok() {
				t.Errorf("HCP %s: %s", hcp, tt.fact)
			}
		}
	}
}
