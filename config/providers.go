package config

import (
	"fmt"
	"os"
)

// Providers configures the provider roster features: the monthly DHCS 274
// provider network files and the PROVIDER-NOT-CONTRACTED rule.
type Providers struct {
	// TradingPartner is the key in trading_partners the 274 files go to.
	TradingPartner string `yaml:"trading_partner"`
	// MappingFile replaces the 274 mapping (rules/data/provider_file_274.csv:
	// roster facts → 274 qualifiers and codes); "" keeps the one in
	// rules_data or the embedded one.
	MappingFile string `yaml:"mapping_file"`
	// TransactionPurpose is BHT02. "27" (Verify) is what a California
	// plan's public DHCS 274 exporter sends; "00" (Original) is the other
	// common choice. Replace it from the current DHCS 274 companion guide.
	TransactionPurpose string `yaml:"transaction_purpose"`
	// ContractCheck says when PROVIDER-NOT-CONTRACTED applies in convert:
	// "auto" once a roster has been loaded into the state store, "on"
	// always (with no roster every line is rejected), "off" never.
	ContractCheck string `yaml:"contract_check"`
	// SegmentNewlines writes a line feed after each 274 segment.
	SegmentNewlines bool `yaml:"segment_newlines"`
	// ContactFunction is the heading PER01: "BJ" as in the production
	// file (dhcs-observed-formats.md B7.4 [P]).
	ContactFunction string `yaml:"contact_function"`
	// NetworkName is the 2100A NM1*NN name after the plan: "DEFAULT" as in
	// the production file (B7.5 [P]); "" writes no NM1*NN.
	NetworkName string `yaml:"network_name"`
	// ReceiverIDQualifier is 2100B NM108: "" (the production file has
	// NM1*40*2*DHCS Managed Care with no ID, B7.6 [P]) writes no ID.
	ReceiverIDQualifier string `yaml:"receiver_id_qualifier"`
	// PeriodFormat is ISA02 with ISA01 03 and no auth_info: "YYMM" (the
	// production file, B7.2 [P]) or "CCYYMM".
	PeriodFormat string `yaml:"period_format"`
}

// ProvidersPartner is the key of the built-in DHCS provider network partner.
const ProvidersPartner = "dhcs-provnetwk"

// DefaultProviders returns the built-in provider settings.
func DefaultProviders() Providers {
	return Providers{TradingPartner: ProvidersPartner, TransactionPurpose: "27", ContractCheck: "auto", SegmentNewlines: false,
		ContactFunction: "BJ", NetworkName: "DEFAULT", PeriodFormat: "YYMM"}
}

// DefaultProvidersPartner is the DHCS provider network receiver. ISA08 and
// GS03 DHCS-PROV-NETWK are the spelling of a production 274 a plan sent to
// DHCS (dhcs-observed-formats.md B7.1 [P]); the companion-guide text copy
// reads DHCS-PROVNETWK, so it stays configurable. With ISA01 03 and an
// empty auth_info, ISA02 carries the reporting period as YYMM, as in that
// file (B7.2 [P]). The sender IDs are placeholders a plan replaces (with
// plan.tin set, ISA06 is TIN + HCP code and GS02 the TIN); usage is "T" so
// that nothing goes out as production by accident.
func DefaultProvidersPartner() TradingPartner {
	var p TradingPartner
	p.Interchange.SenderQualifier = "ZZ"
	p.Interchange.SenderID = "CALAIMPLAN"
	p.Interchange.ReceiverQualifier = "ZZ"
	p.Interchange.ReceiverID = "DHCS-PROV-NETWK"
	p.Interchange.AuthQualifier = "03"
	p.Interchange.Usage = "T"
	p.Group.SenderCode = "CALAIMPLAN"
	p.Group.ReceiverCode = "DHCS-PROV-NETWK"
	p.Submitter.Name = "CALAIM PLAN"
	p.Submitter.ID = "CALAIMPLAN"
	p.Submitter.ContactName = "EDI TEAM"
	p.Submitter.ContactPhone = "9165550100"
	p.Receiver.Name = "DHCS Managed Care"
	p.Receiver.ID = "DHCS"
	p.FileName = "{plan}_{hcp}_274_{date}_{counter}.dat"
	return p
}

// ProviderFilePartner returns the trading partner the 274 files go to.
func (c *Config) ProviderFilePartner() TradingPartner { return c.Partners[c.Providers.TradingPartner] }

// validateProviders checks the providers section.
func (c *Config) validateProviders() []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	p := &c.Providers
	if _, ok := c.Partners[p.TradingPartner]; !ok {
		bad("providers.trading_partner %q is not in trading_partners", p.TradingPartner)
	}
	if len(p.TransactionPurpose) != 2 {
		bad("providers.transaction_purpose %q: must be a two-character BHT02 code such as 27 or 00", p.TransactionPurpose)
	}
	if p.ContactFunction != "BJ" && p.ContactFunction != "IC" {
		bad("providers.contact_function %q: must be BJ or IC", p.ContactFunction)
	}
	if p.PeriodFormat != "YYMM" && p.PeriodFormat != "CCYYMM" {
		bad("providers.period_format %q: must be YYMM or CCYYMM", p.PeriodFormat)
	}
	if q := p.ReceiverIDQualifier; q != "" && q != "46" && q != "PI" {
		bad("providers.receiver_id_qualifier %q: must be empty (no ID), 46 or PI", q)
	}
	switch p.ContractCheck {
	case "auto", "on", "off":
	default:
		bad("providers.contract_check %q: must be auto, on or off", p.ContractCheck)
	}
	if p.MappingFile != "" {
		if st, err := os.Stat(p.MappingFile); err != nil || st.IsDir() {
			bad("providers.mapping_file %q: not a readable file", p.MappingFile)
		}
	}
	return errs
}
