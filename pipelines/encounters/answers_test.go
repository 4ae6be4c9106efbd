package encounters

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// counters hands out acknowledgment control numbers.
type counters struct{ n int64 }

func (c *counters) next() (int64, error)            { c.n++; return c.n, nil }
func (c *counters) NextInterchange() (int64, error) { return c.next() }
func (c *counters) NextGroup() (int64, error)       { return c.next() }
func (c *counters) NextTransaction() (int64, error) { return c.next() }

// our999 writes the 999 our own validator and 999 writer give for an 837P
// we sent, as DHCS would answer it; breakSet > 0 first drops the HI
// segment (required) of that transaction set, so the 999 rejects it.
func (e *env) our999(path string, breakSet int) string {
	e.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	if breakSet > 0 {
		segs := strings.Split(string(b), "~")
		set, dropped := 0, false
		out := segs[:0]
		for _, s := range segs {
			if strings.HasPrefix(strings.TrimSpace(s), "ST*837*") {
				set++
			}
			if set == breakSet && !dropped && strings.HasPrefix(strings.TrimSpace(s), "HI*") {
				dropped = true
				continue
			}
			out = append(out, s)
		}
		if !dropped {
			e.t.Fatalf("%s has no transaction set %d with an HI", path, breakSet)
		}
		b = []byte(strings.Join(out, "~"))
	}
	var buf bytes.Buffer
	a := ack.New999(x12.NewWriter(&buf, x12.DefaultDelimiters), &counters{n: 500})
	opts := ig.Options{}
	a.Attach(&opts)
	if _, err := ig.NewValidator(opts).Validate(context.Background(), bytes.NewReader(b)); err != nil || a.Err() != nil {
		e.t.Fatalf("999 of %s: %v %v", path, err, a.Err())
	}
	p := filepath.Join(e.dir, filepath.Base(path)+".999")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		e.t.Fatal(err)
	}
	// The 999 we wrote passes our own 999 validator.
	if sum, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { e.t.Errorf("999: %s", f) }}).Validate(context.Background(), bytes.NewReader(buf.Bytes())); err != nil || sum.Rejected != 0 {
		e.t.Fatalf("our 999 is invalid: %v %+v", err, sum)
	}
	return p
}

// answer is one claim of a DHCS 277CA: CLM01, STC01 and REF*1K.
type answer struct{ clm, stc, id string }

// dhcs277 writes DHCS's 277CA for our file ours, in the shape DHCS sends
// (dhcs-observed-formats.md B4 [P]): named <our file>_RESP_277.dat, ISA05
// 30 CALIFORNIA-DHCS, batch counts in QTY*90/QTY*AA, per claim TRN*2
// CLM01, STC F1:20 …WQ or F2:<code> …U*0, REF*1K.
func (e *env) dhcs277(ours string, as ...answer) string {
	e.t.Helper()
	acc, rej := 0, 0
	for _, a := range as {
		if strings.HasPrefix(a.stc, "F1") {
			acc++
		} else {
			rej++
		}
	}
	segs := []string{
		"ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*951234567305   *261124*0830*^*00501*000000901*0*P*:",
		"GS*HN*CALIFORNIA-DHCS*951234567305*20261124*0830*901*X*005010X214",
		"ST*277*0001*005010X214", "BHT*0085*08*R1*20261124*0830*TH",
		"HL*1**20*1", "NM1*PR*2*CALIFORNIA-DHCS*****46*610442", "TRN*1*R1", "DTP*050*D8*20261123", "DTP*009*D8*20261124",
		"HL*2*1*21*1", "NM1*41*2*PLAN*****46*951234567", "TRN*2*0F1E2D3C-BATCH", "STC*F1:20*20261124*WQ",
		fmt.Sprintf("QTY*90*%d", acc), fmt.Sprintf("QTY*AA*%d", rej),
		"HL*3*2*19*1", "NM1*85*2*BAY STREET HOUSING*****XX*1456789019",
	}
	for i, a := range as {
		stc := "STC*" + a.stc + "*20261124*WQ"
		if !strings.HasPrefix(a.stc, "F1") {
			stc = "STC*" + a.stc + "*20261124*U*0"
		}
		segs = append(segs, fmt.Sprintf("HL*%d*3*PT", i+4), "NM1*QC*1*MEMBER*TEST****MI*900000001A", "TRN*2*"+a.clm, stc, "REF*1K*"+a.id, "DTP*472*D8*20260901")
	}
	segs = append(segs, fmt.Sprintf("SE*%d*0001", len(segs)-1), "GE*1*901", "IEA*1*000000901")
	p := filepath.Join(e.dir, strings.TrimSuffix(filepath.Base(ours), ".dat")+"_RESP_277.dat")
	if err := os.WriteFile(p, []byte(strings.Join(segs, "~")+"~"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// dhcsEVR writes DHCS's Encounter Validation Response for our file ours,
// each encounter (CLM01, status, Encounter ID) in one transaction.
func (e *env) dhcsEVR(ours string, encs ...answer) string {
	e.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<EncounterValidationResponse xmlns="http://www.dhcs.ca.gov/EDS/DHCSResponse">
  <EncounterFileName>%s</EncounterFileName><EncounterSubmitterName>PLAN</EncounterSubmitterName>
  <EncounterSubmissionDate>2026-11-23</EncounterSubmissionDate><ValidationStatus>Accepted</ValidationStatus>
  <Transactions><Transaction Status="Accepted"><TransactionNumber>1</TransactionNumber>
    <Identifiers><Envelope IdentifierName="ISAControlNumber" IdentifierValue="000000003"/></Identifiers><Encounters>`, filepath.Base(ours))
	for _, en := range encs {
		fmt.Fprintf(&b, `<Encounter Status="%s"><IdentifierType>CLM01</IdentifierType><EncounterReferenceNumber>%s</EncounterReferenceNumber><EncounterId>%s</EncounterId>`, en.stc, en.clm, en.id)
		if en.stc != "Accepted" {
			b.WriteString(`<EncounterResponses><Response Severity="Error"><Id>0x39395df</Id><IsSNIP>true</IsSNIP><Description>Rendering provider not enrolled</Description></Response></EncounterResponses>`)
		}
		b.WriteString(`</Encounter>`)
	}
	b.WriteString(`</Encounters></Transaction></Transactions></EncounterValidationResponse>`)
	p := filepath.Join(e.dir, filepath.Base(ours)+"_EVR.xml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// load ingests DHCS answers of one kind and returns the one result.
func (e *env) load(kind string, path string) ingest.Result {
	e.t.Helper()
	job := ingest.Job{Files: []string{path}, Store: e.state.(*store.SQLite)}
	var res []ingest.Result
	switch kind {
	case ingest.Kind999:
		res = ingest.Ingest999(context.Background(), job)
	case ingest.Kind277CA:
		res = ingest.Ingest277CA(context.Background(), job)
	case ingest.KindEVR:
		res = ingest.IngestEVR(context.Background(), job)
	}
	if len(res) != 1 || res[0].Err != nil {
		e.t.Fatalf("%s %s: %+v", kind, filepath.Base(path), res)
	}
	return res[0]
}

// latest returns each CLM01's latest submission with a status.
func (e *env) latest(status string) map[string]store.Submission {
	e.t.Helper()
	subs, err := e.state.(store.EncounterStore).Encounters(context.Background(), status, "")
	if err != nil {
		e.t.Fatal(err)
	}
	m := map[string]store.Submission{}
	for _, s := range subs {
		m[s.CLM01] = s
	}
	return m
}

func clm01s(t *testing.T, path string) []string {
	var out []string
	for _, s := range segments(t, path) {
		if s[0] == "CLM" {
			out = append(out, s[1])
		}
	}
	return out
}

func reportRows(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

// The whole loop with DHCS: three encounters sent in two transaction
// sets; the 999 (written by our own 999 writer for our own file) rejects
// the second set; DHCS's 277CA accepts one encounter and denies another
// (97:QC), and answers a CLM01 we never sent (reported, not dropped). The
// rejected list then holds the denied and the 999-rejected encounters. A
// replacement of the denied one carries its Encounter ID in REF*F8, the
// 999-rejected one goes out again as an original with its CLM01; the next
// 277CA accepts both, and the rejected list is empty. A void carries the
// latest Encounter ID and is accepted through an EVR.
func TestDHCSAnswersRoundTrip(t *testing.T) {
	e := newEnv(t)
	p := e.cfg.Partners[e.cfg.Encounters.TradingPartner]
	p.Plan.Name, p.Plan.TIN = "PLAN", "951234567"
	p.Plan.HCPCodes = map[string]string{"33": "305"}
	e.cfg.Partners[e.cfg.Encounters.TradingPartner] = p
	e.cfg.Encounters.MaxClaimsPerST = 2
	e.enroll(map[int]string{1: "33", 2: "33", 3: "33"})

	orig, err := e.convert("out1", e.file("orig.csv", correctionHeader,
		row("INV-1", 1, 1, 1, "G9008", "U1")+",,", row("INV-2", 1, 2, 1, "G9008", "U1")+",,", row("INV-3", 1, 3, 1, "G9008", "U1")+",,"))
	if err != nil || len(orig.Outputs) != 1 {
		t.Fatalf("original: %v %+v", err, orig)
	}
	clm := clm01s(t, orig.Output)
	if len(clm) != 3 {
		t.Fatalf("claims %v", clm)
	}
	if w := e.latest(store.EncounterSent); len(w) != 3 || w[clm[2]].ST02 == w[clm[0]].ST02 || w[clm[0]].File != filepath.Base(orig.Output) {
		t.Fatalf("sent: %+v", w)
	}

	// 999: set 1 accepted, set 2 (the third claim) rejected.
	r := e.load(ingest.Kind999, e.our999(orig.Output, 2))
	if r.Read != 2 || r.Loaded != 2 || r.Rejected != 1 || r.Warnings != 0 {
		t.Fatalf("999: %+v", r)
	}
	rej := e.latest(store.EncounterRejected)
	if len(rej) != 1 || rej[clm[2]].Code != "999 IK5 R" || !strings.Contains(rej[clm[2]].Reason, "IK3 HI at segment 19 (loop 2300): 3 (required segment missing)") {
		t.Fatalf("rejected after the 999: %+v", rej)
	}
	if w := e.latest(store.EncounterSent); w[clm[0]].Ack != "A" || w[clm[1]].Ack != "A" {
		t.Fatalf("waiting after the 999: %+v", w)
	}

	// 277CA: the first accepted, the second denied (eligibility not found),
	// and a CLM01 nobody sent.
	r = e.load(ingest.Kind277CA, e.dhcs277(orig.Output,
		answer{clm[0], "F1:20", "202611240000001"}, answer{clm[1], "F2:97:QC", "202611240000002"}, answer{"305999C9", "F2:54", "202611240000099"}))
	if r.Read != 3 || r.Loaded != 2 || r.Rejected != 2 || r.Warnings != 1 {
		t.Fatalf("277CA: %+v", r)
	}
	unmatched := 0
	for _, row := range reportRows(t, r.Report) {
		if row[10] == rules.ResponseUnmatched {
			unmatched++
			if row[4] != "305999C9" {
				t.Errorf("unmatched row %v", row)
			}
		}
	}
	if unmatched != 1 {
		t.Errorf("report %s: %d unmatched row(s), want 1", r.Report, unmatched)
	}
	rej = e.latest(store.EncounterRejected)
	if len(rej) != 2 || rej[clm[1]].Code != "F2:97:QC" || !strings.Contains(rej[clm[1]].Reason, "eligibility not found") || rej[clm[1]].EncounterID != "202611240000002" {
		t.Fatalf("rejected after the 277CA: %+v", rej)
	}
	if a := e.latest(store.EncounterAccepted); len(a) != 1 || a[clm[0]].EncounterID != "202611240000001" {
		t.Fatalf("accepted after the 277CA: %+v", a)
	}

	// Corrections: a replacement of the denied encounter, and of the one
	// DHCS never received.
	fix, err := e.convert("out2", e.file("fix.csv", correctionHeader,
		row("INV-2C", 1, 2, 1, "G9008", "U1")+",7,"+clm[1], row("INV-3C", 1, 3, 1, "G9008", "U1")+",7,INV-3"))
	if err != nil || len(fix.Outputs) != 1 || fix.Rejected() != 0 {
		t.Fatalf("corrections: %v %+v", err, fix)
	}
	validate837(t, fix.Output)
	var got []string
	f8 := map[string]string{}
	cur := ""
	for _, s := range segments(t, fix.Output) {
		switch {
		case s[0] == "CLM":
			cur = s[1]
			got = append(got, s[1]+" "+s[5][strings.Index(s[5], ":"):])
		case s[0] == "REF" && s[1] == "F8":
			f8[cur] = s[2]
		}
	}
	if want := []string{clm[1] + " :B:7", clm[2] + " :B:1"}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("corrections sent as %v, want %v", got, want)
	}
	if f8[clm[1]] != "202611240000002" || f8[clm[2]] != "" {
		t.Errorf("REF*F8 %v: the replacement carries the denied encounter's ID, the resend none", f8)
	}
	if w := e.latest(store.EncounterSent); len(w) != 2 || w[clm[1]].Frequency != "7" || w[clm[2]].Frequency != "1" || w[clm[1]].Invoice != "INV-2C" {
		t.Fatalf("waiting after the corrections: %+v", w)
	}
	if rej = e.latest(store.EncounterRejected); len(rej) != 0 {
		t.Fatalf("rejected while the corrections wait: %+v", rej)
	}
	// The 999 of the corrections (all accepted), then the 277CA.
	if r = e.load(ingest.Kind999, e.our999(fix.Output, 0)); r.Loaded != 1 || r.Rejected != 0 {
		t.Fatalf("999 of the corrections: %+v", r)
	}
	r = e.load(ingest.Kind277CA, e.dhcs277(fix.Output, answer{clm[1], "F1:20", "202611250000002"}, answer{clm[2], "F1:20", "202611250000003"}))
	if r.Loaded != 2 || r.Rejected != 0 || r.Warnings != 0 {
		t.Fatalf("277CA of the corrections: %+v", r)
	}
	if rej = e.latest(store.EncounterRejected); len(rej) != 0 {
		t.Fatalf("rejected after the corrections were accepted: %+v", rej)
	}
	if a := e.latest(store.EncounterAccepted); len(a) != 3 || a[clm[1]].Frequency != "7" || a[clm[1]].EncounterID != "202611250000002" {
		t.Fatalf("accepted: %+v", a)
	}

	// A void of the replaced encounter carries its latest Encounter ID; an
	// EVR accepts it.
	void, err := e.convert("out3", e.file("void.csv", correctionHeader, row("INV-2V", 1, 2, 1, "G9008", "U1")+",8,INV-2"))
	if err != nil || len(void.Outputs) != 1 {
		t.Fatalf("void: %v %+v", err, void)
	}
	c, ref := claimOf(t, void.Output)
	if c[1] != clm[1] || !strings.HasSuffix(c[5], ":B:8") || ref == nil || ref[2] != "202611250000002" {
		t.Fatalf("void CLM %v REF*F8 %v", c, ref)
	}
	r = e.load(ingest.KindEVR, e.dhcsEVR(void.Output, answer{clm[1], "Accepted", "202611260000002"}))
	if r.Loaded != 1 || r.Rejected != 0 {
		t.Fatalf("EVR: %+v", r)
	}
	if a := e.latest(store.EncounterAccepted); a[clm[1]].Frequency != "8" || a[clm[1]].AnsweredBy != filepath.Base(void.Output)+"_EVR.xml" {
		t.Errorf("the void's answer: %+v", a[clm[1]])
	}
}
