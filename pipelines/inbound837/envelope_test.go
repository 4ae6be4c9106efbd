package inbound837

import (
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
)

// TestRejectedGroupOrInterchangeForwardsNothing: a group the 999 rejects
// for its GE (GE02 not GS06, GE01 not the sets' count) and an interchange
// a TA1 rejects for its IEA have none of their claims accepted: no 277CA,
// no encounter line, the claims recorded as not accepted with no pending
// lines (the same services sent again are not duplicates of them); the
// AK9 of a group rejected for its GE counts no accepted set (AK904 0), and
// a rejected interchange gets its TA1 and no 999. The report's totals
// count the set rejected with it, as the summary does.
func TestRejectedGroupOrInterchangeForwardsNothing(t *testing.T) {
	cases := []struct {
		name, from, to string
		ack999, ta1    string // "" for none
		report         string
	}{
		{"GE02 is not GS06", "GE*1*101~", "GE*1*102~", "AK9*R*1*1*0*4~", "", "bad.x12,,,group rejected,"},
		{"GE01 is not the sets' count", "GE*1*101~", "GE*2*101~", "AK9*R*2*1*0*5~", "", "bad.x12,,,group rejected,"},
		{"IEA02 is not ISA13", "IEA*1*000000101~", "IEA*1*000000109~", "", "*R*001~", "bad.x12,,,interchange rejected,"},
		{"IEA01 is not the groups' count", "IEA*1*000000101~", "IEA*2*000000101~", "", "*R*021~", "bad.x12,,,interchange rejected,"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newFwdEnv(t)
			good := bothGood(t)
			if !strings.Contains(good, c.from) {
				t.Fatalf("%q not in the file", c.from)
			}
			r, out := e.ingest("bad", strings.Replace(good, c.from, c.to, 1))
			if r.Read != 2 || r.Rejected != 2 || r.Loaded != 0 || r.Forward != "" || exists(out, "bad"+SuffixEncounters) {
				t.Errorf("result %+v", r)
			}
			if exists(out, "bad"+Suffix277CA) {
				t.Errorf("277CA written:\n%s", readOut(t, out, "bad"+Suffix277CA))
			}
			if c.ack999 == "" {
				if exists(out, "bad"+Suffix999) {
					t.Errorf("999 for a rejected interchange:\n%s", readOut(t, out, "bad"+Suffix999))
				}
			} else if a := readOut(t, out, "bad"+Suffix999); !strings.Contains(a, c.ack999) {
				t.Errorf("999 lacks %s:\n%s", c.ack999, a)
			}
			if c.ta1 != "" {
				if a := readOut(t, out, "bad"+SuffixTA1); !strings.Contains(a, c.ta1) {
					t.Errorf("TA1 lacks %s:\n%s", c.ta1, a)
				}
			}
			if rep := readOut(t, out, "bad"+SuffixReportCSV); !strings.Contains(rep, c.report) ||
				strings.Contains(rep, ",accepted,") || strings.Count(rep, ",rejected ("+strings.Fields(c.report[len("bad.x12,,,"):])[0]+" rejected),") != 2 {
				t.Errorf("report lacks %q, or shows a claim other than rejected with it:\n%s", c.report, rep)
			}
			if rep := readOut(t, out, "bad"+SuffixReportHTML); !strings.Contains(rep, "0 claim(s) accepted, 2 rejected; 1 transaction set(s) rejected whole") ||
				r.SetsRejected != 1 {
				t.Errorf("report totals (%d sets rejected):\n%s", r.SetsRejected, rep)
			}
			for _, n := range []string{"000000001000001", "000000001000002"} {
				ic, ok, err := e.st.InboundClaim(context.Background(), n)
				if err != nil || ok && ic.Accepted {
					t.Errorf("claim %s recorded as %+v %v %v", n, ic, ok, err)
				}
			}
			// An interchange the TA1 rejected was not received: the sender
			// may send it again, fixed, under the same ISA13. A group the
			// 999 rejected came in an interchange that was: it comes
			// again under a new one.
			again := withISA13(good, "000000102")
			if c.ta1 != "" {
				again = good
			}
			r2, _ := e.ingest("again", again)
			if r2.Duplicate != "" || r2.Rejected != 0 || r2.Forward == "" {
				t.Errorf("the same claims sent again: %+v", r2)
			}
		})
	}
}

// TestOnlyTheRejectedGroupIsWithdrawn: of two groups, the first rejected
// for its GE and the second clean with the same services, only the second
// group's claims are answered in the 277CA and forwarded, under claim
// numbers 3 and 4 of the interchange.
func TestOnlyTheRejectedGroupIsWithdrawn(t *testing.T) {
	good := bothGood(t)
	gs, iea := strings.Index(good, "GS*"), strings.Index(good, "IEA*")
	group := good[gs:iea]
	second := strings.Replace(strings.Replace(group, "*101*X*", "*102*X*", 1), "GE*1*101~", "GE*1*102~", 1)
	first := strings.Replace(group, "GE*1*101~", "GE*1*109~", 1)
	in := good[:gs] + first + second + strings.Replace(good[iea:], "IEA*1*", "IEA*2*", 1)
	e := newFwdEnv(t)
	r, out := e.ingest("two", in)
	if r.Read != 4 || r.Rejected != 2 || r.Loaded != 2 || r.Forward == "" {
		t.Fatalf("result %+v", r)
	}
	a999 := readOut(t, out, "two"+Suffix999)
	if !strings.Contains(a999, "AK1*HC*101*005010X222A1~AK2*837*0001*005010X222A1~IK5*A~AK9*R*1*1*0*4~") ||
		!strings.Contains(a999, "AK1*HC*102*005010X222A1~AK2*837*0001*005010X222A1~IK5*A~AK9*A*1*1*1~") {
		t.Errorf("999:\n%s", a999)
	}
	a277 := readOut(t, out, "two"+Suffix277CA)
	if strings.Count(a277, "~ST*277*") != 1 || !strings.Contains(a277, "REF*1K*000000001000003~") || !strings.Contains(a277, "REF*1K*000000001000004~") ||
		strings.Contains(a277, "REF*1K*000000001000001~") || !strings.Contains(a277, "~GE*1*") {
		t.Errorf("277CA:\n%s", a277)
	}
	enc := readOut(t, out, "two"+SuffixEncounters)
	if strings.Count(enc, "\n") != 4 || strings.Contains(enc, "000000001000001") || !strings.Contains(enc, "000000001000003") {
		t.Errorf("encounter lines:\n%s", enc)
	}
	// The report shows the first group's claims rejected with it, above
	// the row that says why, and the second group's accepted.
	rows, err := csv.NewReader(strings.NewReader(readOut(t, out, "two"+SuffixReportCSV))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, row := range rows[1:] {
		statuses = append(statuses, row[2]+" "+row[3])
	}
	if want := []string{"ENC1001 rejected (group rejected)", "ENC1002 rejected (group rejected)", " group rejected", "ENC1001 accepted", "ENC1002 accepted"}; !slices.Equal(statuses, want) {
		t.Errorf("report rows %q, want %q", statuses, want)
	}
	page := readOut(t, out, "two"+SuffixReportHTML)
	if strings.Count(page, "<td>rejected (group rejected)</td>") != 2 || strings.Count(page, "<td>accepted</td>") != 2 ||
		!strings.Contains(page, "2 claim(s) accepted, 2 rejected; 1 transaction set(s) rejected whole") || r.SetsRejected != 1 {
		t.Errorf("HTML report:\n%s", page)
	}
	for n, want := range map[string]bool{"000000001000001": false, "000000001000002": false, "000000001000003": true, "000000001000004": true} {
		if ic, ok, err := e.st.InboundClaim(context.Background(), n); err != nil || !ok || ic.Accepted != want {
			t.Errorf("claim %s recorded as %+v %v %v", n, ic, ok, err)
		}
	}
}

// TestGroupOfRejectedSetsWithdrawsNothing: a group rejected because its
// only set is (AK9 R, AK904 0, no GE error) gets no "group rejected" row:
// its claims are rejected with their set.
func TestGroupOfRejectedSetsWithdrawsNothing(t *testing.T) {
	e := newFwdEnv(t)
	r, out := e.ingest("bad", strings.Replace(bothGood(t), "XX*1234567893", "XX*1234567890", 1))
	if r.Read != 2 || r.Rejected != 2 || r.SetsRejected != 1 {
		t.Errorf("result %+v", r)
	}
	if a := readOut(t, out, "bad"+Suffix999); !strings.Contains(a, "AK9*R*1*1*0~") {
		t.Errorf("999:\n%s", a)
	}
	if rep := readOut(t, out, "bad"+SuffixReportCSV); strings.Contains(rep, "group rejected") || !strings.Contains(rep, "set rejected") {
		t.Errorf("report:\n%s", rep)
	}
}
