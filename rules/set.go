package rules

import (
	"fmt"
	"regexp"
)

// Options say where a plan's rule data comes from and the plan's own
// parameters of the rules (see config.Config.RuleOptions).
type Options struct {
	// CodingTable is a replacement for the coding table ("" = the one of
	// RulesData, else the embedded one).
	CodingTable string
	// RulesData is a directory whose CSV files replace the embedded tables
	// of the same name ("" = the embedded tables only).
	RulesData string
	// MemberIDPattern is the regular expression a member's CIN matches
	// ("" = DefaultMemberIDPattern).
	MemberIDPattern string
	// PlanCodes are the 834 HD04 codes that are this plan (empty = any).
	PlanCodes []string
	// LTCAidCodes are the aid codes whose share of cost is long-term care.
	LTCAidCodes []string
	// Extensions extend streamlined ECM authorization to providers.
	Extensions []StreamlinedExtension
	// ProviderFileMapping is a replacement for the 274 mapping ("" = the
	// one of RulesData, else the embedded one).
	ProviderFileMapping string
}

// Set is every rule table the gateway decides with, loaded once: the DHCS
// ECM/CS coding table, the shared tables (counties, populations of focus
// and their go-live dates, provider types, Figure 5 pairs), the
// eligibility tables (authorization periods, Community Supports limits,
// ECM exclusions, D-SNP contracts), the 274 mapping, and the enrollment
// and authorization rules built over them with the plan's parameters. A Set is immutable
// after Load and safe for concurrent use; every command and the daemon
// take their rules from one.
type Set struct {
	Coding      *CodingTable
	Tables      *Tables
	Data        *EligibilityTables
	Eligibility *Eligibility
	// ProviderFile is the 274 mapping: which 274 segments a roster site's
	// facts become.
	ProviderFile *ProviderFileMapping
	MemberID     *regexp.Regexp // the CIN pattern
}

// Load reads every rule table once, from the embedded defaults with the
// plan's replacements, and checks them; every problem is reported with
// its table and line.
func Load(o Options) (*Set, error) {
	s := &Set{}
	data := DataFS(o.RulesData)
	var err error
	if s.Coding, err = LoadCodingTable(o.CodingTable, o.RulesData); err != nil {
		return nil, err
	}
	if s.Tables, err = LoadTables(data); err != nil {
		return nil, err
	}
	if s.Data, err = LoadEligibilityTables(data); err != nil {
		return nil, fmt.Errorf("eligibility rule data: %w", err)
	}
	pat := o.MemberIDPattern
	if pat == "" {
		pat = DefaultMemberIDPattern
	}
	if s.MemberID, err = regexp.Compile(pat); err != nil {
		return nil, fmt.Errorf("member ID pattern %q: %w", pat, err)
	}
	if s.ProviderFile, err = LoadProviderFileMapping(o.ProviderFileMapping, data, o.RulesData, s.Tables, s.Coding); err != nil {
		return nil, err
	}
	s.Eligibility = NewEligibility(s.Tables, s.Data, o.PlanCodes, o.LTCAidCodes, o.Extensions)
	return s, nil
}
