package inbound837

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen837p"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

type fwdEnv struct {
	t   *testing.T
	st  *store.SQLite
	cfg *config.Config
	rs  *rules.Set
	now time.Time
}

func newFwdEnv(t *testing.T) *fwdEnv {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Load(rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &fwdEnv{t: t, st: st, cfg: cfg, rs: rs, now: time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC)}
}

// ingest writes data as name.x12 and ingests it into a fresh directory,
// returning the result and the directory.
func (e *fwdEnv) ingest(name, data string) (ingest.Result, string) {
	e.t.Helper()
	in := filepath.Join(e.t.TempDir(), name+".x12")
	if err := os.WriteFile(in, []byte(data), 0o600); err != nil {
		e.t.Fatal(err)
	}
	out := e.t.TempDir()
	rs := Ingest(context.Background(), ingest.Job{Files: []string{in}, OutDir: out, Store: e.st, Config: e.cfg,
		Coding: e.rs.Coding, Rules: e.rs, Now: func() time.Time { return e.now }})
	if len(rs) != 1 || rs[0].Err != nil {
		e.t.Fatalf("ingest %s: %+v", name, rs)
	}
	return rs[0], out
}

func readOut(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func exists(dir, name string) bool {
	_, err := os.Stat(filepath.Join(dir, name))
	return err == nil
}

// convert sends encounter lines on with the invoice conversion and
// returns its 837.
func (e *fwdEnv) convert(csvPath string) string {
	e.t.Helper()
	res, err := encounters.Convert(context.Background(), encounters.Job{Inputs: []string{csvPath}, OutDir: e.t.TempDir(), Store: e.st,
		Config: e.cfg, Coding: e.rs.Coding, Today: 20260201, Now: e.now})
	if err != nil {
		e.t.Fatal(err)
	}
	if res.Output == "" {
		e.t.Fatalf("no 837 written; rejects: %+v", res.Summary.Rejects)
	}
	return readOut(e.t, filepath.Dir(res.Output), filepath.Base(res.Output))
}

// TestSplitFileForwardsGoodClaimsToTheNext837P: a file with one claim the
// DHCS coding table rejects is split: the good claim's line goes, in the
// invoice template, into the encounter lines, which the invoice
// conversion sends to DHCS under the plan's claim number (the 277CA's
// REF*1K) with the provider's CLM01 in REF*D9; the bad claim is only in
// the 277CA; the store traces the plan's number back to the provider's.
func TestSplitFileForwardsGoodClaimsToTheNext837P(t *testing.T) {
	e := newFwdEnv(t)
	r, out := e.ingest("split", twoClaims(t)) // ENC1001 bills G9012 without its modifier
	if r.Read != 2 || r.Rejected != 1 || r.Forward != filepath.Join(out, "split"+SuffixEncounters) {
		t.Fatalf("result %+v", r)
	}
	a277 := readOut(t, out, "split"+Suffix277CA)
	if !strings.Contains(a277, "TRN*2*ENC1001~STC*A7:454") || !strings.Contains(a277, "TRN*2*ENC1002~STC*A2:20:PR*20260116*WQ*75.5~REF*1K*000000001000002~") {
		t.Errorf("277CA:\n%s", a277)
	}
	rows, err := csv.NewReader(strings.NewReader(readOut(t, out, "split"+SuffixEncounters))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("encounter lines %q, want the header and ENC1002's one line", rows)
	}
	got := map[string]string{}
	for i, col := range rows[0] {
		got[col] = rows[1][i]
	}
	want := map[string]string{
		"invoice_number": "000000001000002", "provider_claim_id": "ENC1002", "invoice_date": "2026-01-15", "line_number": "1",
		"billing_npi": "1234567893", "billing_tin": "941234567", "billing_name": "HARBOR COMMUNITY SUPPORTS", "billing_taxonomy": "251S00000X",
		"billing_address": "100 CAPITOL MALL STE 200", "billing_city": "SACRAMENTO", "billing_state": "CA", "billing_zip": "958140001",
		"member_cin": "98765432B", "member_last_name": "NGUYEN", "member_first_name": "BAO", "member_dob": "1967-11-30", "member_gender": "M",
		"member_address": "45 ELM ST APT 3", "member_city": "WEST SACRAMENTO", "member_state": "CA", "member_zip": "95691",
		"service_from": "2026-01-09", "service_to": "2026-01-09", "units": "3", "charge_amount": "75.50",
		"hcpcs": "T1016", "modifiers": "U8", "place_of_service": "12", "diagnosis": "Z5900", "authorization_number": "",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	out837 := e.convert(r.Forward)
	flat := strings.ReplaceAll(out837, "\n", "")
	if !strings.Contains(flat, "CLM*000000001000002*75.5***12:B:1*Y*A*Y*Y~REF*D9*ENC1002~HI*ABK:Z5900~") || strings.Contains(flat, "ENC1001") {
		t.Errorf("outbound 837:\n%s", out837)
	}
	v := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) {
		if f.Severity == ig.Error {
			t.Errorf("outbound 837 finding: %s", f.String())
		}
	}})
	if _, err := v.Validate(context.Background(), bytes.NewReader([]byte(out837))); err != nil {
		t.Fatal(err)
	}
	sent, ok, err := e.st.SentClaim(context.Background(), "000000001000002", "")
	if err != nil || ok != 1 || sent.Invoice != "000000001000002" || sent.BillingNPI == "" {
		t.Fatalf("sent claim %+v %v %v", sent, ok, err)
	}
	for _, tc := range []struct {
		plan, provider string
		accepted       bool
	}{{"000000001000002", "ENC1002", true}, {"000000001000001", "ENC1001", false}} {
		c, ok, err := e.st.InboundClaim(context.Background(), tc.plan)
		if err != nil || !ok || c.ProviderClaim != tc.provider || c.Accepted != tc.accepted || c.Sender != "ZZ:CALAIMGW" || c.ISA13 != "000000101" {
			t.Errorf("inbound claim %s: %+v %v %v", tc.plan, c, ok, err)
		}
	}
}

// A forwarded claim's encounter keeps the provider's HI whole and in
// order: the principal diagnosis stays ABK though its line points at
// another code, and a code no line points at is kept.
func TestForwardedClaimKeepsItsDiagnoses(t *testing.T) {
	e := newFwdEnv(t)
	in := strings.Replace(bothGood(t), "HI*ABK:Z5900~", "HI*ABK:Z5900*ABF:Z5941*ABF:Z590~", 1)
	in = strings.Replace(in, "SV1*HC:T1016:U8*75.50*UN*3***1~", "SV1*HC:T1016:U8*75.50*UN*3***2~", 1)
	r, _ := e.ingest("dx", in)
	if r.Read != 2 || r.Rejected != 0 {
		t.Fatalf("result %+v", r)
	}
	flat := strings.ReplaceAll(e.convert(r.Forward), "\n", "")
	if !strings.Contains(flat, "REF*D9*ENC1002~HI*ABK:Z5900*ABF:Z5941*ABF:Z590~") || !strings.Contains(flat, "SV1*HC:T1016:U8*75.5*UN*3***2~") {
		t.Errorf("outbound 837, want ENC1002's HI as sent and its line pointing at Z5941:\n%s", flat)
	}
}

// withISA13 gives the fixture another interchange control number.
func withISA13(data, isa13 string) string {
	data = strings.Replace(data, "*000000101*0*T*", "*"+isa13+"*0*T*", 1)
	return strings.Replace(data, "IEA*1*000000101", "IEA*1*"+isa13, 1)
}

func bothGood(t *testing.T) string {
	return strings.Replace(twoClaims(t), "SV1*HC:G9012*", "SV1*HC:G9012:U8*", 1)
}

// TestLevel7Duplicate: claims whose lines were already sent to DHCS are
// rejected in the 277CA with SNIP7-DUPLICATE, status 54, and are not
// forwarded again.
func TestLevel7Duplicate(t *testing.T) {
	e := newFwdEnv(t)
	r, _ := e.ingest("first", bothGood(t))
	if r.Rejected != 0 || r.Forward == "" {
		t.Fatalf("first: %+v", r)
	}
	e.convert(r.Forward)
	r2, out := e.ingest("again", withISA13(bothGood(t), "000000102"))
	if r2.Duplicate != "" || r2.Read != 2 || r2.Rejected != 2 || r2.Forward != "" || exists(out, "again"+SuffixEncounters) {
		t.Fatalf("again: %+v", r2)
	}
	a277 := readOut(t, out, "again"+Suffix277CA)
	if strings.Count(a277, "STC*A7:54*") != 2 {
		t.Errorf("277CA:\n%s", a277)
	}
	if rep := readOut(t, out, "again"+SuffixReportCSV); strings.Count(rep, "rejected,SNIP7-DUPLICATE,7,") != 3 || !strings.Contains(rep, "DUPLICATE-LINE") {
		t.Errorf("report:\n%s", rep)
	}
}

// TestLevel7DuplicateOfPendingLines: claims accepted from one file and
// not yet converted are pending; the same services in another file
// before the conversion are duplicates of them (SNIP7-DUPLICATE, status
// 54, the first file named), and the first file's lines are then sent
// without being taken for duplicates of themselves.
func TestLevel7DuplicateOfPendingLines(t *testing.T) {
	e := newFwdEnv(t)
	r, _ := e.ingest("first", bothGood(t))
	if r.Rejected != 0 || r.Forward == "" {
		t.Fatalf("first: %+v", r)
	}
	r2, out := e.ingest("again", withISA13(bothGood(t), "000000102"))
	if r2.Read != 2 || r2.Rejected != 2 || r2.Forward != "" {
		t.Fatalf("again before the conversion: %+v", r2)
	}
	if a277 := readOut(t, out, "again"+Suffix277CA); strings.Count(a277, "STC*A7:54*") != 2 {
		t.Errorf("277CA:\n%s", a277)
	}
	// A pending line may be another sender's: the report says so without
	// naming its file.
	if rep := readOut(t, out, "again"+SuffixReportCSV); strings.Count(rep, "DUPLICATE-LINE: "+encounters.DuplicateForOthers) != 3 || strings.Contains(rep, "first.x12") {
		t.Errorf("report:\n%s", rep)
	}
	// The plan's own conversion of the same services names the pending
	// claim's inbound file.
	fwd, err := os.ReadFile(r.Forward)
	if err != nil {
		t.Fatal(err)
	}
	copied := filepath.Join(t.TempDir(), "copy.csv")
	if err := os.WriteFile(copied, []byte(strings.ReplaceAll(string(fwd), "\n000000001", "\n990000001")), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := encounters.Convert(context.Background(), encounters.Job{Inputs: []string{copied}, OutDir: t.TempDir(), Store: e.st,
		Config: e.cfg, Coding: e.rs.Coding, Today: 20260201, Now: e.now})
	if err != nil || plan.Rejected() != 3 {
		t.Fatalf("the plan's conversion of the same services: %v %+v", err, plan)
	}
	for _, rj := range plan.Summary.Rejects {
		if !strings.Contains(rj.Message, "of first.x12, a claim accepted on 2026-01-16") || !strings.Contains(rj.Message, "waiting to be sent") {
			t.Errorf("the plan's reject: %+v", rj)
		}
	}
	flat := strings.ReplaceAll(e.convert(r.Forward), "\n", "")
	if !strings.Contains(flat, "REF*D9*ENC1001~") || !strings.Contains(flat, "REF*D9*ENC1002~") {
		t.Errorf("the pending lines were not sent:\n%s", flat)
	}
	// Sent, they are duplicates as sent lines.
	r3, out := e.ingest("third", withISA13(bothGood(t), "000000103"))
	if r3.Rejected != 2 {
		t.Fatalf("after the conversion: %+v", r3)
	}
	if rep := readOut(t, out, "third"+SuffixReportCSV); !strings.Contains(rep, "already sent on") {
		t.Errorf("report:\n%s", rep)
	}
}

// TestLevel7Eligibility: with the eligibility rules enforced and no 834
// loaded, no member is enrolled: each claim is rejected with
// SNIP7-ELIGIBILITY, status 97 for the patient (QC).
func TestLevel7Eligibility(t *testing.T) {
	e := newFwdEnv(t)
	e.cfg.Eligibility.Rules = config.RulesAll
	r, out := e.ingest("elig", bothGood(t))
	if r.Rejected != 2 || r.Forward != "" {
		t.Fatalf("result %+v", r)
	}
	if a277 := readOut(t, out, "elig"+Suffix277CA); strings.Count(a277, "STC*A7:97:QC*") != 2 {
		t.Errorf("277CA:\n%s", a277)
	}
	if rep := readOut(t, out, "elig"+SuffixReportCSV); !strings.Contains(rep, "ENC1002,rejected,SNIP7-ELIGIBILITY,7,44,SV1: SV1*HC:T1016:U8*75.50*UN*3***1,") || !strings.Contains(rep, "ELIG-NOT-ENROLLED") {
		t.Errorf("report:\n%s", rep)
	}
}

// TestLevel7EligibilityAcrossSets: with the eligibility rules enforced,
// every set of a file is judged against the store, each in a check run
// of its own (rolled back, so the next may get the same run ID on another
// connection): no member is enrolled, so every claim of every set is
// rejected with SNIP7-ELIGIBILITY, and the ingest does not fail.
func TestLevel7EligibilityAcrossSets(t *testing.T) {
	e := newFwdEnv(t)
	e.cfg.Eligibility.Rules = config.RulesAll
	var buf bytes.Buffer
	const n = 5000
	if _, err := (gen837p.Options{Claims: n, PerSet: 1000}).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r, out := e.ingest("elig-sets", buf.String())
	if r.Read != n || r.Rejected != n || r.Sets != 5 {
		t.Fatalf("result %+v", r)
	}
	if a277 := readOut(t, out, "elig-sets"+Suffix277CA); strings.Count(a277, "STC*A7:97:QC*") != n {
		t.Errorf("%d claims rejected for eligibility in the 277CA, want %d", strings.Count(a277, "STC*A7:97:QC*"), n)
	}
}

// TestProviderReplacementWithoutOriginalRejected: a replacement (CLM05-3
// 7) without 2300 REF*F8 is rejected with SNIP4-CLM05-REF-F8, the guide's
// situational rule, before the judge; the original beside it goes on. A
// partner whose profile warns on that rule gets the warning, and the judge
// still rejects the replacement with SNIP7-FREQUENCY: without REF*F8 it
// corrects no claim.
func TestProviderReplacementWithoutOriginalRejected(t *testing.T) {
	e := newFwdEnv(t)
	data := strings.Replace(bothGood(t), "CLM*ENC1002*75.5***12:B:1*", "CLM*ENC1002*75.5***12:B:7*", 1)
	r, out := e.ingest("repl", data)
	if r.Rejected != 1 {
		t.Fatalf("result %+v", r)
	}
	if rep := readOut(t, out, "repl"+SuffixReportCSV); !strings.Contains(rep, "ENC1002,rejected,SNIP4-CLM05-REF-F8,4,") || strings.Contains(rep, "SNIP7-FREQUENCY") {
		t.Errorf("report:\n%s", rep)
	}
	if fwd := readOut(t, out, "repl"+SuffixEncounters); strings.Contains(fwd, "ENC1002") || !strings.Contains(fwd, "ENC1001") {
		t.Errorf("encounter lines:\n%s", fwd)
	}

	e.cfg.Inbound837.Partners = map[string]config.Inbound837Partner{"CALAIMGW": {Edits: map[string]string{"SNIP4-CLM05-REF-F8": "warn"}}}
	_, out = e.ingest("warned", withISA13(data, "000000102")) // ENC1001 repeats the first file's: a duplicate
	rep := readOut(t, out, "warned"+SuffixReportCSV)
	if !strings.Contains(rep, "ENC1002,rejected (warning),SNIP4-CLM05-REF-F8,4,") || !strings.Contains(rep, "ENC1002,rejected,SNIP7-FREQUENCY,7,") {
		t.Errorf("warned: report:\n%s", rep)
	}
	if a999 := readOut(t, out, "warned"+Suffix999); !strings.Contains(a999, "IK3*REF*39*2300*I6~CTX*CLM01:ENC1002~IK5*E*I5~") {
		t.Errorf("warned: 999:\n%s", a999)
	}
}

// TestDuplicateInterchange: a file whose interchange was received before
// (the same content, or the same sender and ISA13 within the window) is
// answered with a TA1 rejecting it with note 025 and nothing else; past
// the window the same ISA13 is processed; a sender whose profile says
// never gets no TA1, and the file is still not processed.
func TestDuplicateInterchange(t *testing.T) {
	e := newFwdEnv(t)
	first, _ := e.ingest("first", bothGood(t))
	if first.Duplicate != "" {
		t.Fatalf("first: %+v", first)
	}
	changed := strings.Replace(bothGood(t), "REF*D9*CLMREF1001", "REF*D9*CLMREF1009", 1)
	tests := []struct {
		name, data string
		later      time.Duration
		ta1        string // the sender's TA1 mode
		duplicate  bool
	}{
		{"same content", bothGood(t), time.Minute, "", true},
		{"same sender and ISA13 inside the window", changed, 364 * 24 * time.Hour, "", true},
		{"same sender and ISA13 past the window", changed, 366 * 24 * time.Hour, "", false},
		{"profile says never", bothGood(t), time.Minute, "never", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.now = time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC).Add(tt.later)
			e.cfg.Inbound837.Partners = map[string]config.Inbound837Partner{"CALAIMGW": {TA1: tt.ta1}}
			r, out := e.ingest("again", tt.data)
			if (r.Duplicate != "") != tt.duplicate {
				t.Fatalf("duplicate %q, want %v", r.Duplicate, tt.duplicate)
			}
			if !tt.duplicate {
				if !exists(out, "again"+Suffix999) {
					t.Error("a file past the window was not answered")
				}
				return
			}
			if !strings.Contains(r.Duplicate, "000000101") || !strings.Contains(r.Duplicate, "first.x12") {
				t.Errorf("duplicate %q should name the interchange and file received first", r.Duplicate)
			}
			for _, s := range []string{Suffix999, Suffix277CA, SuffixReportCSV, SuffixReportHTML, SuffixEncounters} {
				if exists(out, "again"+s) {
					t.Errorf("a duplicate wrote %s", s)
				}
			}
			if tt.ta1 == "never" {
				if exists(out, "again"+SuffixTA1) {
					t.Error("TA1 written for a sender whose profile says never")
				}
				return
			}
			ta1 := readOut(t, out, "again"+SuffixTA1)
			if !strings.Contains(ta1, "TA1*000000101*260115*1200*R*025~") || !strings.HasPrefix(ta1, "ISA*00*          *00*          *ZZ*DHCSENC        *ZZ*CALAIMGW       *") {
				t.Errorf("TA1:\n%s", ta1)
			}
		})
	}
}

// TestDuplicateInterchangeAnsweredInTheSendersDelimiters: the TA1 of a
// duplicate interchange uses the interchange's own separators, as every
// answer to it does, so that the sender's ID it is addressed to (here
// holding a *, legal where | separates elements) is repeated as sent.
func TestDuplicateInterchangeAnsweredInTheSendersDelimiters(t *testing.T) {
	e := newFwdEnv(t)
	in := strings.Replace(strings.ReplaceAll(bothGood(t), "*", "|"), "|ZZ|CALAIMGW       |", "|ZZ|CALAIM*GW      |", 1)
	if first, _ := e.ingest("first", in); first.Duplicate != "" {
		t.Fatalf("first: %+v", first)
	}
	r, out := e.ingest("again", in)
	if r.Duplicate == "" {
		t.Fatal("not a duplicate")
	}
	ta1 := readOut(t, out, "again"+SuffixTA1)
	if !strings.HasPrefix(ta1, "ISA|00|          |00|          |ZZ|DHCSENC        |ZZ|CALAIM*GW      |") ||
		!strings.Contains(ta1, "TA1|000000101|260115|1200|R|025~") {
		t.Errorf("TA1:\n%s", ta1)
	}
}

// TestPartnerProfileFromConfiguration: a sender's profile in
// inbound_837p.trading_partners sets an edit's action (the DHCS coding
// edit only warns: the claim is accepted with its warning) and the TA1
// mode (always: a TA1 accepting the clean interchange).
func TestPartnerProfileFromConfiguration(t *testing.T) {
	e := newFwdEnv(t)
	e.cfg.Inbound837.Partners = map[string]config.Inbound837Partner{"CALAIMGW": {TA1: "always", Edits: map[string]string{"SNIP6-DHCS-CODE": "warn"}}}
	r, out := e.ingest("prof", twoClaims(t))
	if r.Rejected != 0 {
		t.Fatalf("result %+v", r)
	}
	if rep := readOut(t, out, "prof"+SuffixReportCSV); !strings.Contains(rep, "ENC1001,accepted (warning),SNIP6-DHCS-CODE,6,") {
		t.Errorf("report:\n%s", rep)
	}
	if ta1 := readOut(t, out, "prof"+SuffixTA1); !strings.Contains(ta1, "TA1*000000101*260115*1200*A*000~") {
		t.Errorf("TA1:\n%s", ta1)
	}
	e.cfg.Inbound837.Partners["CALAIMGW"] = config.Inbound837Partner{Edits: map[string]string{"SNIP9-NOPE": "warn"}}
	in := filepath.Join(t.TempDir(), "bad.x12")
	os.WriteFile(in, []byte(withISA13(twoClaims(t), "000000555")), 0o600)
	rs := Ingest(context.Background(), ingest.Job{Files: []string{in}, OutDir: t.TempDir(), Store: e.st, Config: e.cfg})
	if rs[0].Err == nil || !strings.Contains(rs[0].Err.Error(), "SNIP9-NOPE") {
		t.Errorf("unknown edit ID in a profile: %v", rs[0].Err)
	}
}

// TestJudgedAcrossManySets: each of several transaction sets is judged
// after its SE; every set gets its 277CA and every claim its encounter
// line, in order.
func TestJudgedAcrossManySets(t *testing.T) {
	e := newFwdEnv(t)
	var buf bytes.Buffer
	n := 5500
	if _, err := (gen837p.Options{Claims: n, PerSet: 1000}).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	r, out := e.ingest("batches", buf.String())
	if r.Read != n || r.Rejected != 0 || r.Sets != 6 {
		t.Fatalf("result %+v", r)
	}
	a277 := readOut(t, out, "batches"+Suffix277CA)
	if got := strings.Count(a277, "STC*A2:20:PR*"); got != n {
		t.Errorf("%d claims accepted in the 277CA, want %d", got, n)
	}
	if got := strings.Count(a277, "~ST*277*"); got != 6 {
		t.Errorf("%d 277CA sets, want 6", got)
	}
	rows, err := csv.NewReader(strings.NewReader(readOut(t, out, "batches"+SuffixEncounters))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	id := slices.Index(rows[0], "provider_claim_id")
	if len(rows) != n+1 || id < 0 || rows[1][id] != "C0" || rows[n][id] != "C"+strconv.Itoa(n-1) {
		t.Errorf("%d encounter lines, header %q", len(rows)-1, rows[0])
	}
}

// TestProviderReplacementForwarded: a provider's replacement (CLM05-3 7)
// names in 2300 REF*F8 the plan's claim number of its original (the
// 277CA's REF*1K); once DHCS has answered for the original (its 277CA
// gives the DHCS Encounter ID), the replacement goes to DHCS with the
// original's CLM01, CLM05-3 7 and REF*F8 the Encounter ID. A replacement
// of a claim DHCS has not answered for yet is held (SNIP7-FREQUENCY,
// CORRECTION-HELD); one without REF*F8 is rejected at level 4.
func TestProviderReplacementForwarded(t *testing.T) {
	e := newFwdEnv(t)
	r, _ := e.ingest("first", bothGood(t))
	e.convert(r.Forward) // sends CLM01 000000001000001 and 000000001000002
	resp := filepath.Join(t.TempDir(), "encounters_RESP_277.dat")
	os.WriteFile(resp, []byte(strings.Join([]string{
		"ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*CALAIMGW       *260120*0830*^*00501*000000901*0*P*:",
		"GS*HN*CALIFORNIA-DHCS*CALAIMGW*20260120*0830*901*X*005010X214", "ST*277*0001*005010X214",
		"HL*1**20*1", "HL*2*1*21*1", "HL*3*2*19*1", "HL*4*3*PT", "TRN*2*000000001000002", "STC*F1:20*20260120*WQ", "REF*1K*202601200000001",
		"SE*9*0001", "GE*1*901", "IEA*1*000000901"}, "~")+"~"), 0o600)
	if lr := ingest.Load277CA(context.Background(), e.st, resp, t.TempDir(), nil); lr.Err != nil || lr.Loaded != 1 {
		t.Fatalf("DHCS 277CA: %+v", lr)
	}
	// ENC1002 replaced (its original answered), ENC1001 replaced too (no
	// answer from DHCS yet: held).
	repl := withISA13(bothGood(t), "000000102")
	repl = strings.Replace(repl, "CLM*ENC1002*75.5***12:B:1*Y*A*Y*Y~", "CLM*ENC1002*75.5***12:B:7*Y*A*Y*Y~\nREF*F8*000000001000002~", 1)
	repl = strings.Replace(repl, "CLM*ENC1001*300***11:B:1*Y*A*Y*Y~", "CLM*ENC1001*300***11:B:7*Y*A*Y*Y~", 1)
	repl = strings.Replace(repl, "REF*D9*CLMREF1001~", "REF*F8*000000001000001~\nREF*D9*CLMREF1001~", 1)
	repl = strings.Replace(repl, "SE*45*0001", "SE*47*0001", 1) // two REF*F8 more
	r2, out := e.ingest("replacement", repl)
	if r2.Read != 2 || r2.Rejected != 1 {
		t.Fatalf("replacement: %+v\n%s", r2, readOut(t, out, "replacement"+SuffixReportCSV))
	}
	if rep := readOut(t, out, "replacement"+SuffixReportCSV); !strings.Contains(rep, "ENC1001,rejected,SNIP7-FREQUENCY,7,") || !strings.Contains(rep, "CORRECTION-HELD") {
		t.Errorf("report:\n%s", rep)
	}
	sent := strings.ReplaceAll(e.convert(r2.Forward), "\n", "")
	if !strings.Contains(sent, "CLM*000000001000002*75.5***12:B:7*Y*A*Y*Y~REF*F8*202601200000001~REF*D9*ENC1002~") {
		t.Errorf("replacement to DHCS:\n%s", sent)
	}
	// Without REF*F8.
	bare := strings.Replace(withISA13(bothGood(t), "000000103"), "CLM*ENC1002*75.5***12:B:1*", "CLM*ENC1002*75.5***12:B:7*", 1)
	r3, out3 := e.ingest("bare", bare)
	if rep := readOut(t, out3, "bare"+SuffixReportCSV); r3.Rejected != 2 || !strings.Contains(rep, "ENC1002,rejected,SNIP4-CLM05-REF-F8,4,") || !strings.Contains(rep, "REF*F8") {
		t.Errorf("replacement without REF*F8: %+v\n%s", r3, rep)
	}
}

// TestLevel7DuplicateWithinASet: a service repeated under another claim of
// the same transaction set is a duplicate of the first: the first claim
// goes on, the repeat is rejected with SNIP7-DUPLICATE (status 54).
func TestLevel7DuplicateWithinASet(t *testing.T) {
	e := newFwdEnv(t)
	s := bothGood(t)
	i, j := strings.Index(s, "HL*3*1*22*0"), strings.Index(s, "SE*45*0001")
	block := s[i:j]
	repeat := strings.Replace(strings.Replace(block, "HL*3*1*22*0", "HL*4*1*22*0", 1), "ENC1002", "ENC1003", -1)
	segs := strings.Count(block, "~")
	data := s[:j] + repeat + "SE*" + strconv.Itoa(45+segs) + "*0001" + s[j+len("SE*45*0001"):]
	r, out := e.ingest("repeat", data)
	if r.Read != 3 || r.Rejected != 1 {
		t.Fatalf("result %+v\n%s", r, readOut(t, out, "repeat"+SuffixReportCSV))
	}
	// The check's line controls are its own: the message names the line
	// by the plan's claim number (the 277CA's REF*1K) and its number.
	if rep := readOut(t, out, "repeat"+SuffixReportCSV); !strings.Contains(rep, "ENC1003,rejected,SNIP7-DUPLICATE,7,") || !strings.Contains(rep, "ENC1002,accepted,") ||
		!strings.Contains(rep, "line 1 earlier in this file; only the first is sent") || strings.Contains(rep, "line control") {
		t.Errorf("report:\n%s", rep)
	}
	if a277 := readOut(t, out, "repeat"+Suffix277CA); !strings.Contains(a277, "TRN*2*ENC1003~STC*A7:54*") {
		t.Errorf("277CA:\n%s", a277)
	}
}

// TestLevel7DuplicateAcrossSets: a service repeated in a later transaction
// set of the same file is a duplicate of the first too: the earlier set's
// claim goes on, the repeat is rejected with SNIP7-DUPLICATE (status 54).
func TestLevel7DuplicateAcrossSets(t *testing.T) {
	e := newFwdEnv(t)
	s := bothGood(t)
	st, i, j := strings.Index(s, "ST*837*0001"), strings.Index(s, "HL*3*1*22*0"), strings.Index(s, "SE*45*0001")
	ge := strings.Index(s, "GE*1*101")
	block := strings.Replace(s[i:j], "HL*3*1*22*0", "HL*3*1*22*0", 1)
	second := strings.Replace(s[st:strings.Index(s, "HL*2*1*22*0")], "ST*837*0001", "ST*837*0002", 1) +
		strings.Replace(block, "ENC1002", "ENC1003", -1)
	second = strings.Replace(second, "HL*3*1*22*0", "HL*2*1*22*0", 1)
	second += "SE*" + strconv.Itoa(strings.Count(second, "~")+1) + "*0002~"
	data := s[:ge] + second + "GE*2*101" + s[ge+len("GE*1*101"):]
	r, out := e.ingest("repeat", data)
	if r.Sets != 2 || r.Read != 3 || r.Rejected != 1 {
		t.Fatalf("result %+v\n%s", r, readOut(t, out, "repeat"+SuffixReportCSV))
	}
	if rep := readOut(t, out, "repeat"+SuffixReportCSV); !strings.Contains(rep, "ENC1003,rejected,SNIP7-DUPLICATE,7,") || !strings.Contains(rep, "ENC1002,accepted,") {
		t.Errorf("report:\n%s", rep)
	}
	a277 := readOut(t, out, "repeat"+Suffix277CA)
	if !strings.Contains(a277, "TRN*2*ENC1003~STC*A7:54*") {
		t.Errorf("277CA:\n%s", a277)
	}
	// One 277CA transaction set per accepted set, numbered within its
	// group; the group's and interchange's numbers come from the store
	// and do not repeat in the next file's answer.
	if !strings.Contains(a277, "ST*277*0001*005010X214~") || !strings.Contains(a277, "ST*277*0002*005010X214~") ||
		!strings.Contains(a277, "SE*23*0002~GE*2*") {
		t.Errorf("277CA control numbers:\n%s", a277)
	}
	_, out2 := e.ingest("next", withISA13(bothGood(t), "000000102"))
	gs := func(x12 string) string {
		f := strings.Split(x12[strings.Index(x12, "GS*"):], "*")
		return f[6]
	}
	if next := readOut(t, out2, "next"+Suffix277CA); gs(next) == gs(a277) || !strings.Contains(next, "ST*277*0001*") {
		t.Errorf("the next file's 277CA: GS06 %s after %s, or its ST02 is not 0001:\n%s", gs(next), gs(a277), next)
	}
}

// TestPendingLineRejectedByItsConversionIsReleased: a pending line that
// its own conversion rejects for a rule stops being pending, so that the
// provider's corrected claim for the service is not its duplicate.
func TestPendingLineRejectedByItsConversionIsReleased(t *testing.T) {
	e := newFwdEnv(t)
	r, _ := e.ingest("first", bothGood(t))
	if r.Rejected != 0 || r.Forward == "" {
		t.Fatalf("first: %+v", r)
	}
	rows, err := csv.NewReader(strings.NewReader(readOut(t, filepath.Dir(r.Forward), filepath.Base(r.Forward)))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	charge := slices.Index(rows[0], "charge_amount")
	for _, row := range rows[1:] {
		row[charge] = "not money"
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	if err := os.WriteFile(r.Forward, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := encounters.Convert(context.Background(), encounters.Job{Inputs: []string{r.Forward}, OutDir: t.TempDir(), Store: e.st,
		Config: e.cfg, Coding: e.rs.Coding, Today: 20260201, Now: e.now})
	if err != nil || res.Output != "" || res.Summary.ByRule[rules.FieldInvalid] != 3 {
		t.Fatalf("conversion of the broken lines: %+v %v", res, err)
	}
	if r2, out := e.ingest("corrected", withISA13(bothGood(t), "000000102")); r2.Rejected != 0 {
		t.Fatalf("corrected claims after their first lines were rejected: %+v\n%s", r2, readOut(t, out, "corrected"+SuffixReportCSV))
	}
}

// TestPlanClaimNumbersUniqueAcrossSenders: two providers whose
// interchanges carry the same ISA13 get different plan's claim numbers
// (REF*1K, the encounter lines' invoice numbers, the store's inbound
// claims), each traced back to its own sender; and the second provider's
// claim for the very same services is a duplicate of the first one's
// pending lines, not taken for them.
func TestPlanClaimNumbersUniqueAcrossSenders(t *testing.T) {
	e := newFwdEnv(t)
	first := bothGood(t)
	other := strings.Replace(first, "*ZZ*CALAIMGW       *", "*ZZ*OTHERPROV      *", 1)
	other = strings.Replace(other, "GS*HC*CALAIMGW*", "GS*HC*OTHERPROV*", 1)
	if other == first {
		t.Fatal("the fixture's sender was not replaced")
	}
	r1, out1 := e.ingest("first", first)
	r2, out2 := e.ingest("other", other)
	if r1.Rejected != 0 || r1.Duplicate != "" || r2.Duplicate != "" {
		t.Fatalf("results %+v / %+v", r1, r2)
	}
	ref1K := func(dir, name string) []string {
		t.Helper()
		var refs []string
		for _, seg := range strings.Split(readOut(t, dir, name+Suffix277CA), "~") {
			if strings.HasPrefix(seg, "REF*1K*") {
				refs = append(refs, strings.TrimPrefix(seg, "REF*1K*"))
			}
		}
		return refs
	}
	got1 := ref1K(out1, "first")
	if want := []string{"000000001000001", "000000001000002"}; !slices.Equal(got1, want) {
		t.Errorf("first sender REF*1K %v, want %v", got1, want)
	}
	// The other sender's claims repeat the first's services: level 7 rejects
	// them (no REF*1K), and nothing of theirs is forwarded.
	if r2.Rejected != 2 || r2.Forward != "" {
		t.Fatalf("other sender: %+v, want both claims rejected as duplicates", r2)
	}
	if got := ref1K(out2, "other"); len(got) != 0 {
		t.Fatalf("other sender's REF*1K %v, want none", got)
	}
	// Its report and 277CA say why without naming the first sender's
	// claim or file.
	rep := readOut(t, out2, "other"+SuffixReportCSV)
	if strings.Count(rep, encounters.DuplicateForOthers) != 3 {
		t.Errorf("the other sender's report lacks the short duplicate message:\n%s", rep)
	}
	for _, f := range []string{"other" + SuffixReportCSV, "other" + Suffix277CA} {
		if text := readOut(t, out2, f); strings.Contains(text, "000000001000001") || strings.Contains(text, "first.x12") {
			t.Errorf("the other sender's %s names the first sender's claim or file:\n%s", f, text)
		}
	}
	// Each plan's number traces back to one sender.
	for _, n := range []string{"000000001000001", "000000002000001"} {
		c, ok, err := e.st.InboundClaim(context.Background(), n)
		want := map[string]string{"000000001000001": "ZZ:CALAIMGW", "000000002000001": "ZZ:OTHERPROV"}[n]
		if err != nil || !ok || c.Sender != want || c.ISA13 != "000000101" {
			t.Errorf("inbound claim %s: %+v %v %v, want sender %s", n, c, ok, err, want)
		}
	}
}

// TestSameDeliveryKeepsItsClaimNumbers: a delivery processed again (the
// daemon's ledger entry after a crash: the same Source) numbers its claims
// as the first time, so its own pending lines are its lines, not
// duplicates; another delivery of other claims gets the next batch.
func TestSameDeliveryKeepsItsClaimNumbers(t *testing.T) {
	e := newFwdEnv(t)
	in := filepath.Join(t.TempDir(), "d.x12")
	if err := os.WriteFile(in, []byte(bothGood(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(source string) (ingest.Result, string) {
		t.Helper()
		out := t.TempDir()
		rs := Ingest(context.Background(), ingest.Job{Files: []string{in}, OutDir: out, Store: e.st, Config: e.cfg,
			Coding: e.rs.Coding, Rules: e.rs, Now: func() time.Time { return e.now }, Source: source})
		if len(rs) != 1 || rs[0].Err != nil {
			t.Fatalf("ingest: %+v", rs)
		}
		return rs[0], out
	}
	first, out1 := run("ledger:5")
	again, out2 := run("ledger:5")
	if first.Rejected != 0 || again.Rejected != 0 || again.Duplicate != "" {
		t.Fatalf("first %+v, again %+v: the same delivery again must be accepted as before", first, again)
	}
	a, b := readOut(t, out1, "d"+Suffix277CA), readOut(t, out2, "d"+Suffix277CA)
	if !strings.Contains(a, "REF*1K*000000001000001~") || !strings.Contains(b, "REF*1K*000000001000001~") {
		t.Errorf("REF*1K of the same delivery differ:\n%s\n%s", a, b)
	}
}

// TestCorrectionOfAnotherSendersClaim: a void (CLM05-3 8) whose REF*F8
// names the plan's claim number of another sender's claim is rejected
// (SNIP7-FREQUENCY) and nothing is forwarded, so no provider voids or
// replaces another's encounter at DHCS; nor may a sender correct its own
// claim that the plan rejected in the 277CA.
func TestCorrectionOfAnotherSendersClaim(t *testing.T) {
	e := newFwdEnv(t)
	r, _ := e.ingest("first", twoClaims(t)) // ENC1001 rejected (000000001000001), ENC1002 accepted (000000001000002)
	if r.Rejected != 1 {
		t.Fatalf("first: %+v", r)
	}
	other := withISA13(bothGood(t), "000000555")
	other = strings.Replace(other, "*ZZ*CALAIMGW       *", "*ZZ*OTHERPROV      *", 1)
	other = strings.Replace(other, "GS*HC*CALAIMGW*", "GS*HC*OTHERPROV*", 1)
	other = strings.Replace(other, "CLM*ENC1002*75.5***12:B:1*Y*A*Y*Y~", "CLM*B-77*75.5***12:B:8*Y*A*Y*Y~\nREF*F8*000000001000002~", 1)
	other = strings.Replace(other, "SE*45*0001", "SE*46*0001", 1)
	r2, out := e.ingest("other", other)
	rep := readOut(t, out, "other"+SuffixReportCSV)
	if !strings.Contains(rep, "B-77,rejected,SNIP7-FREQUENCY,7,") || !strings.Contains(rep, "not the plan's claim number") {
		t.Errorf("another sender's void: %+v\n%s", r2, rep)
	}
	if r2.Forward != "" {
		for _, row := range strings.Split(readOut(t, filepath.Dir(r2.Forward), filepath.Base(r2.Forward)), "\n") {
			if strings.Contains(row, "B-77") {
				t.Errorf("the void was forwarded: %s", row)
			}
		}
	}
	own := withISA13(bothGood(t), "000000104")
	own = strings.Replace(own, "CLM*ENC1001*300***11:B:1*Y*A*Y*Y~", "CLM*ENC1001*300***11:B:7*Y*A*Y*Y~", 1)
	own = strings.Replace(own, "REF*D9*CLMREF1001~", "REF*F8*000000001000001~\nREF*D9*CLMREF1001~", 1)
	own = strings.Replace(own, "SE*45*0001", "SE*46*0001", 1)
	_, out3 := e.ingest("own", own)
	if rep := readOut(t, out3, "own"+SuffixReportCSV); !strings.Contains(rep, "ENC1001,rejected,SNIP7-FREQUENCY,7,") || !strings.Contains(rep, "rejected in its 277CA") {
		t.Errorf("a correction of a claim the plan rejected:\n%s", rep)
	}
}

// TestAcknowledgmentsNeverShareAnInterchangeNumber: the 999 and the 277CA
// sent back to a provider for one file, and those of the next file, all
// carry different ISA13s and GS06s (one sequence for the sender's
// acknowledgments, so its translator never sees an ISA13 twice).
func TestAcknowledgmentsNeverShareAnInterchangeNumber(t *testing.T) {
	e := newFwdEnv(t)
	_, out1 := e.ingest("a", bothGood(t))
	_, out2 := e.ingest("b", withISA13(bothGood(t), "000000102"))
	isa, gs := map[string]string{}, map[string]string{}
	for _, f := range []struct{ dir, name string }{{out1, "a" + Suffix999}, {out1, "a" + Suffix277CA}, {out2, "b" + Suffix999}, {out2, "b" + Suffix277CA}} {
		data := readOut(t, f.dir, f.name)
		segs := strings.Split(data, "~")
		if len(segs) < 2 || !strings.HasPrefix(segs[0], "ISA*") || !strings.HasPrefix(strings.TrimSpace(segs[1]), "GS*") {
			t.Fatalf("%s: %q", f.name, data)
		}
		i13 := strings.Split(segs[0], "*")[13]
		g06 := strings.Split(strings.TrimSpace(segs[1]), "*")[6]
		if prev, ok := isa[i13]; ok {
			t.Errorf("ISA13 %s of %s already in %s", i13, f.name, prev)
		}
		if prev, ok := gs[g06]; ok {
			t.Errorf("GS06 %s of %s already in %s", g06, f.name, prev)
		}
		isa[i13], gs[g06] = f.name, f.name
	}
}

// TestLineInMinutesNotForwardedAsUnits: a service line counted in minutes
// (SV103 MJ, a code the 837P guide lists beside UN) cannot become an
// encounter line, whose units the outbound 837P writes with SV103 UN: its
// claim is rejected (SNIP6-INVOICE-RULE) instead of 60 minutes going to
// DHCS as 60 units; the claim in units goes on.
func TestLineInMinutesNotForwardedAsUnits(t *testing.T) {
	e := newFwdEnv(t)
	data := strings.Replace(bothGood(t), "SV1*HC:T1016:U8*75.50*UN*3***1~", "SV1*HC:T1016:U8*75.50*MJ*60***1~", 1)
	r, out := e.ingest("minutes", data)
	if r.Read != 2 || r.Rejected != 1 || r.Forward == "" {
		t.Fatalf("result %+v\n%s", r, readOut(t, out, "minutes"+SuffixReportCSV))
	}
	if rep := readOut(t, out, "minutes"+SuffixReportCSV); !strings.Contains(rep, "ENC1002,rejected,SNIP6-INVOICE-RULE,") || !strings.Contains(rep, "SV103 is MJ") {
		t.Errorf("report:\n%s", rep)
	}
	fwd := readOut(t, out, "minutes"+SuffixEncounters)
	if strings.Contains(fwd, "ENC1002") || !strings.Contains(fwd, "ENC1001") {
		t.Errorf("encounter lines:\n%s", fwd)
	}
}

// TestDependentPatientNotForwardedAsTheSubscriber: a claim for a patient
// who is not the subscriber (a 2000C loop, SBR02 not 18) names the
// patient in 2010CA, which has no member ID in 005010X222A1. Its encounter
// line would carry the subscriber's CIN, name and birth date for the
// patient's services: the claim is rejected instead, and the claim whose
// patient is the subscriber goes on.
func TestDependentPatientNotForwardedAsTheSubscriber(t *testing.T) {
	e := newFwdEnv(t)
	s := bothGood(t)
	sub := "HL*3*1*22*0~\nSBR*P*18*******MC~\nNM1*IL*1*NGUYEN*BAO****MI*98765432B~\nN3*45 ELM ST*APT 3~\nN4*WEST SACRAMENTO*CA*95691~\nDMG*D8*19671130*M~\nNM1*PR*2*SUNRISE HEALTH PLAN*****PI*SHP01~\n"
	// The subscriber's address and birth date are sent too (the guide says
	// not to, and the validator does not enforce it).
	dep := "HL*3*1*22*1~\nSBR*P********MC~\nNM1*IL*1*NGUYEN*BAO****MI*98765432B~\nN3*45 ELM ST*APT 3~\nN4*WEST SACRAMENTO*CA*95691~\nDMG*D8*19671130*M~\nNM1*PR*2*SUNRISE HEALTH PLAN*****PI*SHP01~\n" +
		"HL*4*3*23*0~\nPAT*19~\nNM1*QC*1*NGUYEN*MAI~\nN3*45 ELM ST*APT 3~\nN4*WEST SACRAMENTO*CA*95691~\nDMG*D8*20150310*F~\n"
	if !strings.Contains(s, sub) {
		t.Fatalf("fixture changed:\n%s", s)
	}
	data := strings.Replace(strings.Replace(s, sub, dep, 1), "SE*45*0001", "SE*51*0001", 1)
	r, out := e.ingest("dependent", data)
	rep := readOut(t, out, "dependent"+SuffixReportCSV)
	if r.Read != 2 || r.Rejected != 1 || r.Forward == "" || r.SetsRejected != 0 {
		t.Fatalf("result %+v\n%s", r, rep)
	}
	if !strings.Contains(rep, "ENC1002,rejected,SNIP7-ELIGIBILITY,") || !strings.Contains(rep, "patient is not the subscriber") || !strings.Contains(rep, "ENC1001,accepted,") {
		t.Errorf("report:\n%s", rep)
	}
	if fwd := readOut(t, out, "dependent"+SuffixEncounters); strings.Contains(fwd, "ENC1002") || strings.Contains(fwd, "98765432B") {
		t.Errorf("encounter lines:\n%s", fwd)
	}
}
