package inbound837

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/pipelines/judges"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// loadUnitsAuth loads an authorization of 3 ECM units for RIVERA ANA
// (91234567A) with billing NPI 1234567893: the authorization rules run
// (eligibility.rules auto, an authorization feed loaded, no 834).
func (e *fwdEnv) loadUnitsAuth() {
	e.t.Helper()
	p := filepath.Join(e.t.TempDir(), "auth.csv")
	if err := os.WriteFile(p, []byte(`authorization_number,member_cin,service,provider_npi,pof,status,type,start_date,end_date,units_authorized,decision_date,decision_communicated_date
U-1,91234567A,ECM,1234567893,POF1A,approved,initial,2026-01-01,2026-12-31,3,2025-12-30,2025-12-30
`), 0o600); err != nil {
		e.t.Fatal(err)
	}
	e.cfg.Eligibility.Rules = config.RulesAuto
	for _, r := range ingest.IngestAuth(context.Background(), ingest.Job{Files: []string{p}, OutDir: e.t.TempDir(), Store: e.st,
		Config: e.cfg, Coding: e.rs.Coding, Tables: rules.DefaultTables(), Data: rules.DefaultEligibilityTables()}) {
		if r.Err != nil || r.Rejected != 0 || r.Loaded != 1 {
			e.t.Fatalf("auth feed: %+v", r)
		}
	}
}

// ecmSet is a transaction set (ST02 st) of one claim clm of RIVERA ANA: one
// ECM line (G9008 U1) of units on day.
func ecmSet(st, clm, day string, units int) string {
	segs := []string{
		"ST*837*" + st + "*005010X222A1",
		"BHT*0019*00*" + clm + "*20260115*1200*RP",
		"NM1*41*2*SUNRISE HEALTH PLAN*****46*SHP001",
		"PER*IC*EDI SUPPORT*TE*9165550100*EM*EDI@EXAMPLE.ORG",
		"NM1*40*2*DHCS ENCOUNTERS*****46*DHCSENC",
		"HL*1**20*1",
		"PRV*BI*PXC*251S00000X",
		"NM1*85*2*HARBOR COMMUNITY SUPPORTS*****XX*1234567893",
		"N3*100 CAPITOL MALL STE 200",
		"N4*SACRAMENTO*CA*958140001",
		"REF*EI*941234567",
		"HL*2*1*22*0",
		"SBR*P*18*******MC",
		"NM1*IL*1*RIVERA*ANA*M***MI*91234567A",
		"N3*200 OAK AVE",
		"N4*SACRAMENTO*CA*95815",
		"DMG*D8*19800214*F",
		"NM1*PR*2*SUNRISE HEALTH PLAN*****PI*SHP01",
		fmt.Sprintf("CLM*%s*%d***11:B:1*Y*A*Y*Y", clm, 100*units),
		"HI*ABK:Z590",
		"LX*1",
		fmt.Sprintf("SV1*HC:G9008:U1*%d*UN*%d***1", 100*units, units),
		"DTP*472*D8*" + day,
	}
	segs = append(segs, fmt.Sprintf("SE*%d*%s", len(segs)+1, st))
	return strings.Join(segs, "~\n") + "~\n"
}

// ecmFile is an interchange (ISA13 isa13) of groups, each of its sets;
// a group whose control number is bad has GE02 not its GS06 (the 999
// rejects it).
func ecmFile(isa13 string, groups ...[]string) string {
	var b strings.Builder
	b.WriteString("ISA*00*          *00*          *ZZ*CALAIMGW       *ZZ*DHCSENC        *260115*1200*^*00501*" + isa13 + "*0*T*:~\n")
	for i, sets := range groups {
		gs := fmt.Sprint(101 + i)
		b.WriteString("GS*HC*CALAIMGW*DHCSENC*20260115*1200*" + gs + "*X*005010X222A1~\n")
		for _, s := range sets {
			b.WriteString(s)
		}
		ge := gs
		if strings.HasPrefix(sets[0], "ST*837*9") { // a set numbered 9xxx: its group's GE02 is wrong
			ge = "999"
		}
		fmt.Fprintf(&b, "GE*%d*%s~\n", len(sets), ge)
	}
	fmt.Fprintf(&b, "IEA*%d*%s~\n", len(groups), isa13)
	return b.String()
}

// claimStatus returns the report's status of claim clm.
func claimStatus(t *testing.T, out, name, clm string) string {
	t.Helper()
	for _, row := range strings.Split(readOut(t, out, name+SuffixReportCSV), "\n") {
		if f := strings.Split(row, ","); len(f) > 4 && f[2] == clm {
			return f[3] + " " + f[4]
		}
	}
	return ""
}

// The units of an authorization billed in earlier transaction sets of a
// file count for its later sets, as within one set: of two sets billing 2
// of the 3 units authorized, the second is over the authorization. The
// sets are in two groups, so that they are judged in two check runs (sets
// of one group waiting together are judged in one).
func TestAuthorizationUnitsAcrossSets(t *testing.T) {
	e := newFwdEnv(t)
	e.loadUnitsAuth()
	r, out := e.ingest("two-sets", ecmFile("000000201", []string{ecmSet("0001", "ECM1", "20260105", 2)}, []string{ecmSet("0001", "ECM2", "20260106", 2)},
		[]string{ecmSet("0001", "ECM3", "20260105", 2)}))
	if r.Sets != 3 || r.Read != 3 || r.Rejected != 2 {
		t.Fatalf("result %+v\n%s", r, readOut(t, out, "two-sets"+SuffixReportCSV))
	}
	if got := claimStatus(t, out, "two-sets", "ECM1"); got != "accepted " {
		t.Errorf("ECM1: %q", got)
	}
	if got := claimStatus(t, out, "two-sets", "ECM2"); got != "rejected SNIP7-AUTHORIZATION" {
		t.Errorf("ECM2: %q\n%s", got, readOut(t, out, "two-sets"+SuffixReportCSV))
	}
	if rep := readOut(t, out, "two-sets"+SuffixReportCSV); !strings.Contains(rep, rules.AuthUnitsExceeded) {
		t.Errorf("report:\n%s", rep)
	}
	// A repeat of an earlier set's line is its duplicate, not over the
	// units by counting them twice.
	if got := claimStatus(t, out, "two-sets", "ECM3"); got != "rejected SNIP7-DUPLICATE" {
		t.Errorf("ECM3: %q", got)
	}
}

// The units of an authorization billed by claims accepted from an earlier
// file and waiting to be sent to DHCS count for a later file's claims.
func TestAuthorizationUnitsOfPendingLines(t *testing.T) {
	e := newFwdEnv(t)
	e.loadUnitsAuth()
	r, out := e.ingest("first", ecmFile("000000201", []string{ecmSet("0001", "ECM1", "20260105", 2)}))
	if r.Rejected != 0 || r.Forward == "" {
		t.Fatalf("first: %+v\n%s", r, readOut(t, out, "first"+SuffixReportCSV))
	}
	first := r.Forward
	r, out = e.ingest("second", ecmFile("000000202", []string{ecmSet("0001", "ECM2", "20260106", 2)}))
	if r.Rejected != 1 || claimStatus(t, out, "second", "ECM2") != "rejected SNIP7-AUTHORIZATION" {
		t.Fatalf("second: %+v\n%s", r, readOut(t, out, "second"+SuffixReportCSV))
	}
	// The first file's line, converted, is not over the units by counting
	// itself as pending beside itself; sent, it counts as sent.
	ctx := context.Background()
	js, err := judges.New(ctx, judges.Env{Config: e.cfg, Rules: e.rs, Store: e.st})
	if err != nil {
		t.Fatal(err)
	}
	res, err := encounters.Convert(ctx, encounters.Job{Inputs: []string{first}, OutDir: t.TempDir(), Store: e.st,
		Config: e.cfg, Coding: e.rs.Coding, Judges: js, Today: 20260201, Now: e.now})
	if err != nil || res.Output == "" || res.Rejected() != 0 {
		t.Fatalf("conversion of the first file's lines: %v %+v", err, res.Summary.Rejects)
	}
	r, out = e.ingest("third", ecmFile("000000203", []string{ecmSet("0001", "ECM3", "20260107", 1)}, []string{ecmSet("0001", "ECM4", "20260108", 1)}))
	if r.Rejected != 1 || claimStatus(t, out, "third", "ECM3") != "accepted " {
		t.Fatalf("third: %+v\n%s", r, readOut(t, out, "third"+SuffixReportCSV))
	}
}

// A group the 999 rejects at its GE gives back the units its claims
// billed: a later group's claim within the authorization is accepted.
func TestRejectedGroupGivesItsUnitsBack(t *testing.T) {
	e := newFwdEnv(t)
	e.loadUnitsAuth()
	data := ecmFile("000000201", []string{ecmSet("9001", "ECM1", "20260105", 2)}, []string{ecmSet("0001", "ECM2", "20260106", 2)})
	r, out := e.ingest("regroup", data)
	if r.Read != 2 || r.Rejected != 1 {
		t.Fatalf("result %+v\n%s", r, readOut(t, out, "regroup"+SuffixReportCSV))
	}
	if got := claimStatus(t, out, "regroup", "ECM1"); !strings.HasPrefix(got, "rejected (group rejected)") {
		t.Errorf("ECM1: %q\n%s", got, readOut(t, out, "regroup"+SuffixReportCSV))
	}
	if got := claimStatus(t, out, "regroup", "ECM2"); got != "accepted " {
		t.Errorf("ECM2: %q\n%s", got, readOut(t, out, "regroup"+SuffixReportCSV))
	}
}

// ecmLine is a service line of ecmClaims: code (with its modifiers, as
// SV101 has them after HC:), units and day.
type ecmLine struct {
	code  string
	units int
	day   string
}

// ecmClaims is a transaction set (ST02 st) of claims of RIVERA ANA, each
// named by its CLM01 with its lines.
func ecmClaims(st string, claims ...struct {
	clm   string
	lines []ecmLine
}) string {
	segs := strings.Split(strings.TrimSuffix(ecmSet(st, "X", "20260101", 1), "~\n"), "~\n")
	segs = segs[:len(segs)-6] // up to the subscriber's payer, before CLM
	for _, c := range claims {
		total := 0
		for _, l := range c.lines {
			total += 100 * l.units
		}
		segs = append(segs, fmt.Sprintf("CLM*%s*%d***11:B:1*Y*A*Y*Y", c.clm, total), "HI*ABK:Z590")
		for i, l := range c.lines {
			segs = append(segs, fmt.Sprintf("LX*%d", i+1), fmt.Sprintf("SV1*HC:%s*%d*UN*%d***1", l.code, 100*l.units, l.units), "DTP*472*D8*"+l.day)
		}
	}
	segs = append(segs, fmt.Sprintf("SE*%d*%s", len(segs)+1, st))
	return strings.Join(segs, "~\n") + "~\n"
}

// A claim rejected for one of its lines is not sent, so its other lines
// neither count against the authorization's units nor make a later
// claim's repeat of them a duplicate. ECM1 bills 1 of the 3 units, then 3
// more on another line, over them; ECM2's 3 units are within them, and
// ECM3, repeating ECM1's first line, is over them with ECM2's, not a
// duplicate. Whether the claims are in one set (one check) or in sets of
// their own: the claims after a rejected one are checked again without it.
func TestRejectedClaimsLinesCountForNothing(t *testing.T) {
	type claim = struct {
		clm   string
		lines []ecmLine
	}
	ecm1 := claim{"ECM1", []ecmLine{{"G9008:U1", 1, "20260105"}, {"G9008:U1", 3, "20260106"}}}
	ecm2 := claim{"ECM2", []ecmLine{{"G9008:U1", 3, "20260107"}}}
	ecm3 := claim{"ECM3", []ecmLine{{"G9008:U1", 1, "20260105"}}}
	for name, groups := range map[string][][]string{
		"one-set":  {{ecmClaims("0001", ecm1, ecm2, ecm3)}},
		"sets":     {{ecmClaims("0001", ecm1)}, {ecmClaims("0001", ecm2)}, {ecmClaims("0001", ecm3)}},
		"two-sets": {{ecmClaims("0001", ecm1, ecm2)}, {ecmClaims("0001", ecm3)}},
	} {
		t.Run(name, func(t *testing.T) {
			e := newFwdEnv(t)
			e.loadUnitsAuth()
			r, out := e.ingest(name, ecmFile("000000201", groups...))
			rep := readOut(t, out, name+SuffixReportCSV)
			if r.Read != 3 || r.Rejected != 2 {
				t.Fatalf("result %+v\n%s", r, rep)
			}
			for clm, want := range map[string]string{"ECM1": "rejected SNIP7-AUTHORIZATION", "ECM2": "accepted ", "ECM3": "rejected SNIP7-AUTHORIZATION"} {
				if got := claimStatus(t, out, name, clm); got != want {
					t.Errorf("%s: %q, want %q\n%s", clm, got, want, rep)
				}
			}
			if fwd := readOut(t, out, filepath.Base(r.Forward)); strings.Count(fwd, "\n") != 2 || !strings.Contains(fwd, "ECM2") {
				t.Errorf("encounter lines:\n%s", fwd)
			}
		})
	}
}

// A claim whose partner's profile only warns on the rule one of its lines
// breaks is accepted and sent whole, so its lines count: ECM1's first
// line makes ECM3's repeat of it a duplicate.
func TestWarnedClaimsLinesCount(t *testing.T) {
	type claim = struct {
		clm   string
		lines []ecmLine
	}
	e := newFwdEnv(t)
	e.loadUnitsAuth()
	e.cfg.Inbound837.Partners = map[string]config.Inbound837Partner{"CALAIMGW": {Edits: map[string]string{"SNIP7-AUTHORIZATION": "warn"}}}
	r, out := e.ingest("warned", ecmFile("000000201", []string{ecmClaims("0001",
		claim{"ECM1", []ecmLine{{"G9008:U1", 1, "20260105"}, {"G9008:U1", 3, "20260106"}}},
		claim{"ECM2", []ecmLine{{"G9008:U1", 3, "20260107"}}},
		claim{"ECM3", []ecmLine{{"G9008:U1", 1, "20260105"}}})}))
	rep := readOut(t, out, "warned"+SuffixReportCSV)
	if r.Read != 3 || r.Rejected != 1 || claimStatus(t, out, "warned", "ECM3") != "rejected SNIP7-DUPLICATE" {
		t.Fatalf("result %+v\n%s", r, rep)
	}
}
