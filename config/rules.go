package config

import (
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// RuleOptions returns what rules.Load needs of the configuration: where
// the rule data comes from and the plan's parameters of the rules.
func (c *Config) RuleOptions() (rules.Options, error) {
	o := rules.Options{
		CodingTable:     c.CodingTable,
		RulesData:       c.RulesData,
		MemberIDPattern: c.Encounters.MemberIDPattern,
		PlanCodes:       c.Eligibility.PlanCodes,
		LTCAidCodes:     c.Eligibility.LTCShareOfCostAidCodes,

		ProviderFileMapping: c.Providers.MappingFile,
	}
	for i, x := range c.Eligibility.StreamlinedExtensions {
		se := rules.StreamlinedExtension{NPI: x.NPI, POFs: x.POFs}
		var err error
		if x.From != "" {
			if se.From, err = civil.Parse(x.From); err != nil {
				return rules.Options{}, fmt.Errorf("eligibility.streamlined_extensions[%d].from: %w", i, err)
			}
		}
		if x.To != "" {
			if se.To, err = civil.Parse(x.To); err != nil {
				return rules.Options{}, fmt.Errorf("eligibility.streamlined_extensions[%d].to: %w", i, err)
			}
		}
		o.Extensions = append(o.Extensions, se)
	}
	return o, nil
}

// LoadRules loads the rule set the configuration names (rules.Load with
// RuleOptions): every command and the daemon take their rules from it.
func (c *Config) LoadRules() (*rules.Set, error) {
	o, err := c.RuleOptions()
	if err != nil {
		return nil, err
	}
	return rules.Load(o)
}
