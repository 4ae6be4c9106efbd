package providerfile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
)

// b7Roster has two organizations with a group NPI and the three site
// identifiers, in two counties (33 Riverside, 36 San Bernardino) of one
// HCP code, as in the production file (dhcs-observed-formats.md B7.10).
const b7Roster = `npi,tin,organization_name,site_name,site_address,site_city,site_state,site_zip,county,phone,taxonomy,provider_types,ecm_pofs,community_supports,contract_start,contract_end,medi_cal_enrolled,capacity_current,capacity_max,group_npi,facility_id,facility_location_id,provider_location_id,practitioner_npi,practitioner_name
1456789019,94-1234567,Inland Housing Partners,Inland Housing - Main St,3900 Main St,Riverside,CA,92501,33,951-555-0142,251S00000X,community_based_org,,CS01;CS02,2024-07-01,,Y,,,1234500001,F100,FL200,PL300,,
1582345678,95-7654321,High Desert ECM,High Desert ECM - E St,303 E St,San Bernardino,CA,92401,36,909-555-0199,251B00000X,street_medicine,POF1A,,2023-01-01,,Y,,,1987650003,F101,FL201,PL301,1765432103,"Nguyen, Linh"
`

// b7File writes the roster's September 2026 file for HCP code 305 and
// returns its segments, split at the default delimiters.
func b7File(t *testing.T) (*env, *Result, [][]string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(path, []byte(b7Roster), 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, path)
	p := e.cfg.Partners[config.ProvidersPartner]
	p.Plan.Name, p.Plan.TIN = "PLAN", "951234567"
	p.Plan.HCPCodes = map[string]string{"33": "305", "36": "305"}
	e.cfg.Partners[config.ProvidersPartner] = p
	res := e.run(t, "2026-09", "out")
	if len(res.Files) != 1 {
		t.Fatalf("%d files, want one for HCP code 305", len(res.Files))
	}
	data, err := os.ReadFile(res.Files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	return e, res, segmentsOf(t, res.Files[0].Path), data
}

// siteBlocks returns each site's segments: from its NM1*77 up to the next
// HL.
func siteBlocks(segs [][]string) [][][]string {
	var out [][][]string
	for i, s := range segs {
		if s[0] != "NM1" || s[1] != x274.EntitySite {
			continue
		}
		j := i + 1
		for j < len(segs) && segs[j][0] != "HL" && segs[j][0] != "SE" {
			j++
		}
		out = append(out, segs[i:j])
	}
	return out
}

func indexOf(block [][]string, id string, first ...string) int {
	for i, s := range block {
		if s[0] == id && (len(first) == 0 || (len(s) > 1 && s[1] == first[0])) {
			return i
		}
	}
	return -1
}

// Each structural fact of the sites and groups of the production 274
// (dhcs-observed-formats.md B7.7, B7.8 [P]), checked on a file written from
// a roster with the default mapping.
func TestSitesAndGroupsAsTheProductionFile(t *testing.T) {
	_, _, segs, _ := b7File(t)
	blocks := siteBlocks(segs)
	if len(blocks) != 2 {
		t.Fatalf("%d sites, want 2", len(blocks))
	}
	counties := []string{"33", "36"}
	ids := [][]string{{"F100", "FL200", "PL300"}, {"F101", "FL201", "PL301"}}
	taxonomies := []string{"251S00000X", "251B00000X"}

	t.Run("group NM1*QV identified by its NPI (XX), the TIN in N2", func(t *testing.T) {
		var got [][]string
		for i, s := range segs {
			if s[0] == "NM1" && s[1] == x274.EntityGroup {
				got = append(got, s, segs[i+1])
			}
		}
		want := [][]string{
			{"NM1", "QV", "2", "Inland Housing Partners", "", "", "", "", "XX", "1234500001"}, {"N2", "941234567"},
			{"NM1", "QV", "2", "High Desert ECM", "", "", "", "", "XX", "1987650003"}, {"N2", "957654321"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("groups %q, want %q", got, want)
		}
	})
	t.Run("site N2: N201 of 12 sub-fields with the county in sub-field 4, N202 of 6", func(t *testing.T) {
		for i, b := range blocks {
			n2 := b[1]
			if n2[0] != "N2" || len(n2) != 3 {
				t.Fatalf("site %d: the segment after NM1*77 is %q, want N2 with two composites", i, n2)
			}
			n201, n202 := strings.Split(n2[1], ";"), strings.Split(n2[2], ";")
			if len(n201) != 12 || n201[3] != counties[i] {
				t.Errorf("site %d N201 %q: want 12 sub-fields, sub-field 4 = %s", i, n2[1], counties[i])
			}
			if len(n202) != 6 {
				t.Errorf("site %d N202 %q: want 6 sub-fields", i, n2[2])
			}
		}
	})
	t.Run("N4 is city, state, ZIP: no CY county", func(t *testing.T) {
		for i, b := range blocks {
			n4 := b[indexOf(b, "N4")]
			if len(n4) != 4 {
				t.Errorf("site %d: %q, want N4*<city>*CA*<zip>", i, n4)
			}
		}
	})
	t.Run("CRC*DJ*Y*1S on every site, after DTP*092 and before NX1", func(t *testing.T) {
		for i, b := range blocks {
			c := indexOf(b, "CRC")
			if c < 0 || strings.Join(b[c], "*") != "CRC*DJ*Y*1S" || c < indexOf(b, "DTP", "092") || c > indexOf(b, "NX1") {
				t.Errorf("site %d: %q", i, b)
			}
		}
	})
	t.Run("LQ*68 taxonomy, each followed by TPB*3G or TPB*3E", func(t *testing.T) {
		for i, s := range segs {
			if s[0] == "LQ" && s[1] == "68" && (segs[i+1][0] != "TPB" || (segs[i+1][1] != "3G" && segs[i+1][1] != "3E")) {
				t.Errorf("%q is followed by %q", s, segs[i+1])
			}
		}
		for i, b := range blocks {
			if l := indexOf(b, "LQ", "68"); l < 0 || b[l][2] != taxonomies[i] {
				t.Errorf("site %d: no LQ*68*%s", i, taxonomies[i])
			}
		}
	})
	t.Run("REF*N5 of three parts, after the specializations", func(t *testing.T) {
		for i, b := range blocks {
			r := indexOf(b, "REF", "N5")
			if r < 0 {
				t.Fatalf("site %d: no REF*N5", i)
			}
			if got := strings.Split(b[r][2], ";"); !reflect.DeepEqual(got, ids[i]) {
				t.Errorf("site %d REF*N5 parts %q, want %q", i, got, ids[i])
			}
			for _, s := range b[r:] {
				if s[0] == "LQ" || s[0] == "TPB" {
					t.Errorf("site %d: %q after REF*N5", i, s)
				}
			}
		}
	})
}

// The file written is read back as what the mapping built from the same
// roster: the reader is the writer's twin on the production shape.
func TestProductionShapeReadsBack(t *testing.T) {
	e, res, _, data := b7File(t)
	f, err := x274.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	month := mp.Month{Year: 2026, Month: 9}
	recs, err := e.st.ProviderSiteRecords(context.Background(), month.First(), month.Last())
	if err != nil {
		t.Fatal(err)
	}
	sites, err := contracts.DecodeSites(recs)
	if err != nil {
		t.Fatal(err)
	}
	built, err := mp.BuildByHCP(sites, month, e.m, e.cfg.Partners[config.ProvidersPartner].Plan.HCPFor)
	if err != nil || len(built) != 1 {
		t.Fatalf("%d files, %v", len(built), err)
	}
	for _, s := range f.Sites() {
		s.Ordinal, s.Line = 0, 0
	}
	if !reflect.DeepEqual(f.Groups, built[0].Groups) {
		t.Errorf("read back:\n got %+v\nwant %+v", f.Groups, built[0].Groups)
	}
	var counties []string
	for _, s := range f.Sites() {
		counties = append(counties, s.CountyCode())
	}
	if !slices.Equal(counties, res.Files[0].Counties) {
		t.Errorf("counties read %v, want %v", counties, res.Files[0].Counties)
	}
}
