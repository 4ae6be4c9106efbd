package rules_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Every rule ID the package defines is in the one catalog exactly once, and
// the catalog lists the invoice rules first, then the enrollment and
// authorization rules, then the provider contract rule, the same on every
// call.
func TestCatalogIsOneStableList(t *testing.T) {
	ids := []string{
		rules.FieldMissing, rules.FieldInvalid, rules.InvoiceNumberUnsafe, rules.NPIInvalid, rules.TINInvalid, rules.CodeNotAllowed, rules.DuplicateLine,
		rules.EligNotEnrolled, rules.EligShareOfCost, rules.EligMemberMismatch, rules.ECMExcluded, rules.POFNotLive,
		rules.AuthMissing, rules.AuthOutreachExempt, rules.AuthStreamlinedWindow, rules.AuthJIPrerelease, rules.AuthOtherProvider,
		rules.AuthUnitsExceeded, rules.CSLimitExceeded, rules.TRNeedsECM,
		rules.EnrollmentMemberInvalid, rules.EnrollmentSetRejected, rules.EnrollmentFileSuperseded, rules.EnrollmentFileOutOfOrder, rules.AuthFeedInvalid, rules.AuthPeriodPolicy, rules.ProgramFeedInvalid,
		rules.ProviderNotContracted, rules.CorrectionUnknown, rules.CorrectionAmbiguous, rules.CorrectionSplit, rules.CorrectionHeld,
		rules.CorrectionResend, rules.CorrectionNotReceived, rules.CorrectionVoided, rules.Response277CAStatus, rules.Response999Status, rules.ResponseEVRStatus, rules.ResponseUnmatched,
		rules.HCPUnknown,
		rules.ADTNoticeProvider, rules.ADTNoticeLate,
		rules.POFUtilizationThreshold, rules.POFUnplannedStay,
	}
	cat := rules.Catalog()
	if len(cat) != len(ids) {
		t.Fatalf("%d rules in the catalog, want %d", len(cat), len(ids))
	}
	for i, r := range cat {
		if r.ID != ids[i] {
			t.Errorf("rule %d is %s, want %s", i, r.ID, ids[i])
		}
		if r.Description == "" || r.Source == "" || r.From == 0 {
			t.Errorf("%s: description, source and effective date are required", r.ID)
		}
	}
	cat[0].ID = "CHANGED"
	if rules.Catalog()[0].ID != rules.FieldMissing {
		t.Error("changing the returned list changed the catalog")
	}
}

func TestLoad(t *testing.T) {
	rs, err := rules.Load(rules.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Coding == nil || rs.Tables == nil || rs.Data == nil || rs.Eligibility == nil {
		t.Fatalf("incomplete set: %+v", rs)
	}
	if !rs.MemberID.MatchString("91234567A") || rs.MemberID.MatchString("9123456") {
		t.Errorf("default member ID pattern %s", rs.MemberID)
	}
	if _, ok := rs.Tables.CountyCode("Alameda"); !ok {
		t.Error("county table not loaded")
	}

	// A plan's replacement table is read, and its problems are reported
	// with the table's name and line.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca_counties.csv"), []byte("code,name\n1,Alameda\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = rules.Load(rules.Options{RulesData: dir})
	if err == nil || !strings.Contains(err.Error(), "ca_counties.csv") {
		t.Fatalf("bad county table: %v", err)
	}
	if _, err := rules.Load(rules.Options{MemberIDPattern: "("}); err == nil {
		t.Fatal("a bad member ID pattern loaded")
	}
	rs, err = rules.Load(rules.Options{MemberIDPattern: `^[0-9]{8}[A-Z]$`})
	if err != nil || !rs.MemberID.MatchString("12345678A") || rs.MemberID.MatchString("123456789") {
		t.Fatalf("configured member ID pattern: %v", err)
	}
}
