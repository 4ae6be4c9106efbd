package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEligibilityDefaultsAndChecks(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Eligibility; e.Rules != RulesAuto || e.ShareOfCostAmount != "R" || len(e.PlanCodes) != 0 {
		t.Errorf("defaults: %+v", e)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(`eligibility:
  rules: all
  plan_codes: ["010", "011"]
  ltc_share_of_cost_aid_codes: ["13", "23"]
  streamlined_extensions:
    - {npi: "1234567893", pofs: [pof3a], from: 2025-06-01, note: "county BH agreement"}
`), 0o644)
	c, err = Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if x := c.Eligibility.StreamlinedExtensions; len(x) != 1 || x[0].POFs[0] != "POF3A" || c.Eligibility.Rules != RulesAll {
		t.Errorf("loaded: %+v", c.Eligibility)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`eligibility:
  rules: sometimes
  plan_codes: ["01 0"]
  ltc_share_of_cost_aid_codes: ["1234"]
  share_of_cost_amount: "spend down"
  streamlined_extensions:
    - {npi: "123", pofs: [POF10], from: 2025-13-01, to: 2025-01-01}
`), 0o644)
	_, err = Load(bad)
	for _, want := range []string{"eligibility.rules", "eligibility.plan_codes", "ltc_share_of_cost_aid_codes", "share_of_cost_amount", "streamlined_extensions[0].npi", "streamlined_extensions[0].pofs", "streamlined_extensions[0].from"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}
