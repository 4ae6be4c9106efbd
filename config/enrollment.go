package config

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Eligibility configures the enrollment (834) and authorization rules that
// `calgw convert` applies to each invoice line, and how enrollment files
// are read. Every value is optional; the defaults are documented per field
// and in docs/enrollment.md.
type Eligibility struct {
	// Rules switches the eligibility and authorization rules:
	//   auto (default): each rule group runs once its data has been loaded
	//        into the state store: ELIG-* after an 834, ECM-EXCLUDED after an
	//        834 or an other_programs feed, AUTH-*, POF-NOT-LIVE,
	//        TR-NEEDS-ECM and CS-LIMIT after an authorization feed;
	//   all:  every rule runs even with nothing loaded (every line is then
	//        ELIG-NOT-ENROLLED): the production setting once feeds flow, so
	//        that a missing feed can never switch a rule off;
	//   off:  none runs.
	Rules string `yaml:"rules"`
	// PlanCodes are the HD04 health-plan codes that are this plan. Spans
	// with another code do not count for ELIG-NOT-ENROLLED. Empty (the
	// default) means every span in the plan's 834 counts: DHCS addresses
	// each plan's 834 to that plan, and the seeds do not list plan codes.
	PlanCodes []string `yaml:"plan_codes"`
	// LTCShareOfCostAidCodes are the aid codes (REF*RB/REF*CE in the span,
	// or REF*3H) that make a share of cost a long-term-care share of cost,
	// which does not exclude from ECM (S004:123). The seeds do not say
	// where DHCS marks LTC; empty (the default) treats every share of cost
	// as non-LTC.
	LTCShareOfCostAidCodes []string `yaml:"ltc_share_of_cost_aid_codes"`
	// ShareOfCostAmount is the AMT01 qualifier of the 2300 loop that carries
	// the share of cost; default "R" (X12 code 522 "Spend Down"; the DHCS
	// sample files carry AMT*R, meaning not confirmed).
	ShareOfCostAmount string `yaml:"share_of_cost_amount"`
	// StreamlinedExtensions extend ECM streamlined authorization to
	// providers beyond the Figure 5 pairs, by agreement (S004:1728,
	// S004:1742-1744).
	StreamlinedExtensions []StreamlinedExtension `yaml:"streamlined_extensions"`
}

// StreamlinedExtension extends streamlined authorization to one provider.
type StreamlinedExtension struct {
	NPI  string   `yaml:"npi"`  // the ECM provider (billing or rendering NPI on the invoice)
	POFs []string `yaml:"pofs"` // populations of focus; empty = every POF
	From string   `yaml:"from"` // YYYY-MM-DD; empty = always
	To   string   `yaml:"to"`   // YYYY-MM-DD; empty = open
	Note string   `yaml:"note"` // the agreement, for people
}

// Eligibility rule modes.
const (
	RulesAuto = "auto"
	RulesAll  = "all"
	RulesOff  = "off"
)

var (
	eligNPIPattern      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{10}$`) })
	eligPOFPattern      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^POF[1-9][AB]?$`) })
	eligAMTPattern      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Z]{1,3}$`) })
	eligAidCodePattern  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Z]{1,3}$`) })
	eligPlanCodePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Za-z]{1,10}$`) })
)

// validate fills the defaults and reports every problem.
func (e *Eligibility) validate() []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, "eligibility."+fmt.Sprintf(format, a...)) }
	e.Rules = strings.ToLower(strings.TrimSpace(e.Rules))
	switch e.Rules {
	case "":
		e.Rules = RulesAuto
	case RulesAuto, RulesAll, RulesOff:
	default:
		bad("rules %q: must be auto, all or off", e.Rules)
	}
	for _, c := range e.PlanCodes {
		if !eligPlanCodePattern().MatchString(c) {
			bad("plan_codes: %q is not a health-plan code (HD04, letters and digits)", c)
		}
	}
	for i, c := range e.LTCShareOfCostAidCodes {
		e.LTCShareOfCostAidCodes[i] = strings.ToUpper(strings.TrimSpace(c))
		if !eligAidCodePattern().MatchString(e.LTCShareOfCostAidCodes[i]) {
			bad("ltc_share_of_cost_aid_codes: %q is not an aid code (1 to 3 letters or digits; quote codes with leading zeros)", c)
		}
	}
	if e.ShareOfCostAmount == "" {
		e.ShareOfCostAmount = "R"
	}
	if !eligAMTPattern().MatchString(e.ShareOfCostAmount) {
		bad("share_of_cost_amount %q: must be an AMT01 qualifier such as R", e.ShareOfCostAmount)
	}
	for i := range e.StreamlinedExtensions {
		x := &e.StreamlinedExtensions[i]
		where := fmt.Sprintf("streamlined_extensions[%d]", i)
		if !eligNPIPattern().MatchString(x.NPI) {
			bad("%s.npi %q: must be a 10-digit NPI", where, x.NPI)
		}
		for j, p := range x.POFs {
			x.POFs[j] = strings.ToUpper(strings.TrimSpace(p))
			if !eligPOFPattern().MatchString(x.POFs[j]) {
				bad("%s.pofs: %q is not a population of focus (POF1A ... POF9)", where, p)
			}
		}
		var from, to time.Time
		var err error
		if x.From != "" {
			if from, err = time.Parse(time.DateOnly, x.From); err != nil {
				bad("%s.from %q: want YYYY-MM-DD", where, x.From)
			}
		}
		if x.To != "" {
			if to, err = time.Parse(time.DateOnly, x.To); err != nil {
				bad("%s.to %q: want YYYY-MM-DD", where, x.To)
			} else if !from.IsZero() && to.Before(from) {
				bad("%s.to %s is before from %s", where, x.To, x.From)
			}
		}
	}
	return errs
}
