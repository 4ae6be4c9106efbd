package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "calgw.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultsValidate(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.EncounterPartner().Interchange.Usage != "T" || c.Encounters.TransactionType != "RP" {
		t.Errorf("defaults: %+v", c.Encounters)
	}
}

func TestLoadOverridesAndKeepsDefaults(t *testing.T) {
	p := write(t, `
encounters:
  max_claims_per_st: 100
  default_diagnosis: z59.9
trading_partners:
  dhcs-encounters:
    interchange: {sender_qualifier: "30", sender_id: "951234567", receiver_qualifier: ZZ, receiver_id: DHCS, usage: P}
    group: {sender_code: PLAN01, receiver_code: DHCS}
    submitter: {name: Example Health Plan, id: PLAN01, contact_phone: "916-555-0100"}
    receiver: {name: DHCS, id: DHCS}
    payer: {name: DHCS, id: DHCS}
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Encounters.MaxClaimsPerST != 100 || c.Encounters.DefaultDiagnosis != "Z599" || c.Encounters.TransactionType != "RP" {
		t.Errorf("encounters = %+v", c.Encounters)
	}
	if got := c.EncounterPartner().Interchange.SenderID; got != "951234567" {
		t.Errorf("sender = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"unknown key", "encounters:\n  max_claims_per_sst: 5\n", "max_claims_per_sst"},
		{"too many claims", "encounters:\n  max_claims_per_st: 9000\n", "max_claims_per_st 9000"},
		{"bad usage", "trading_partners:\n  dhcs-encounters:\n    interchange: {usage: X}\n", "usage"},
		{"missing partner", "encounters:\n  trading_partner: nobody\n", `"nobody" is not in trading_partners`},
		{"long sender", "trading_partners:\n  dhcs-encounters:\n    interchange: {sender_id: ABCDEFGHIJKLMNOPQ}\n", "sender_id"},
		{"bad diagnosis", "encounters:\n  default_diagnosis: housing\n", "default_diagnosis"},
		{"bad timezone", "timezone: Mars/Olympus\n", "timezone"},
	}
	for _, tt := range tests {
		_, err := Load(write(t, tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

func TestEmptyFileMeansDefaults(t *testing.T) {
	if _, err := Load(write(t, "")); err != nil {
		t.Fatal(err)
	}
}
