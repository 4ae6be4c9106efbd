package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		// A phone with no digits left PER03 TE without PER04 (an invalid PER).
		{"phone without digits", partnerWithPhone("TBD"), `submitter.contact_phone "TBD"`},
		{"phone without area code", partnerWithPhone("555-0100"), `submitter.contact_phone "555-0100"`},
	}
	for _, tt := range tests {
		_, err := Load(write(t, tt.body))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tt.name, err, tt.want)
		}
	}
}

// partnerWithPhone is a complete encounter partner whose submitter has
// contact phone phone.
func partnerWithPhone(phone string) string {
	return `
trading_partners:
  dhcs-encounters:
    interchange: {sender_qualifier: ZZ, sender_id: "951234567", receiver_qualifier: ZZ, receiver_id: DHCS, usage: T}
    group: {sender_code: PLAN01, receiver_code: DHCS}
    submitter: {name: Example Health Plan, id: PLAN01, contact_phone: "` + phone + `"}
    receiver: {name: DHCS, id: DHCS}
    payer: {name: DHCS, id: DHCS}
`
}

func TestEmptyFileMeansDefaults(t *testing.T) {
	if _, err := Load(write(t, "")); err != nil {
		t.Fatal(err)
	}
}

// inbound_837p: the duplicate window (default a year) and the senders'
// profiles by ISA06, their TA1 mode and edit actions checked on load.
func TestInbound837Profiles(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantErr    string // "" = loads
	}{
		{"defaults", "", ""},
		{"profile", "inbound_837p:\n  duplicate_window: 720h\n  trading_partners:\n    PROV1:\n      ta1: always\n      edits: {SNIP5-ZIP: warn}\n", ""},
		{"bad ta1", "inbound_837p:\n  trading_partners:\n    PROV1:\n      ta1: sometimes\n", "inbound_837p.trading_partners.PROV1.ta1 \"sometimes\""},
		{"bad action", "inbound_837p:\n  trading_partners:\n    PROV1:\n      edits: {SNIP5-ZIP: ignore}\n", "inbound_837p.trading_partners.PROV1.edits.SNIP5-ZIP \"ignore\""},
		{"unknown edit", "inbound_837p:\n  trading_partners:\n    PROV1:\n      edits: {SNIP9-NOPE: warn}\n", "inbound_837p.trading_partners.PROV1.edits.SNIP9-NOPE: unknown edit ID"},
		{"ISA06 too long", "inbound_837p:\n  trading_partners:\n    PROV1234567890123:\n      ta1: never\n", "1 to 15 characters"},
		{"negative window", "inbound_837p:\n  duplicate_window: -1h\n", "duplicate_window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			c, err := Load(p)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one naming %q", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			switch tt.name {
			case "defaults":
				if c.Inbound837.Window() != DefaultDuplicateWindow || c.Inbound837.Partner("ANY").TA1 != "" {
					t.Errorf("defaults %+v", c.Inbound837)
				}
			case "profile":
				if p := c.Inbound837.Partner("PROV1 "); p.TA1 != "always" || p.Edits["SNIP5-ZIP"] != "warn" || c.Inbound837.Window() != 720*time.Hour {
					t.Errorf("profile %+v window %v", p, c.Inbound837.Window())
				}
			}
		})
	}
}

// adt.processing_ids takes P, T and D (HL7 table 0103) and defaults to P.
func TestADTProcessingIDs(t *testing.T) {
	var a ADT
	if got := a.TakenProcessingIDs(); len(got) != 1 || got[0] != "P" {
		t.Errorf("default %v, want [P]", got)
	}
	a.ProcessingIDs = []string{"P", "T", "D"}
	if errs := a.validate(); len(errs) != 0 {
		t.Errorf("P, T, D: %v", errs)
	}
	a.ProcessingIDs = []string{"P", "Q"}
	if errs := a.validate(); len(errs) != 1 || !strings.Contains(errs[0], `adt.processing_ids[1] "Q"`) {
		t.Errorf("Q: %v", errs)
	}
}
