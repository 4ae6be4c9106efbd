// Package config reads the gateway's YAML configuration: settings for the
// encounter conversion and the trading-partner profiles that carry envelope
// values. Every value has a documented default (see Default and the README);
// unknown keys are errors, so a typo never silently falls back to a default.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the plan's time zone must load on systems without zoneinfo

	"gopkg.in/yaml.v3"

	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Config is the whole configuration file.
type Config struct {
	// CodingTable is a replacement for the embedded DHCS ECM/CS coding
	// table (rules/data/hcpcs_ecm_cs.csv); "" keeps the embedded one.
	CodingTable string `yaml:"coding_table"`
	// RulesData is a directory whose CSV files replace the embedded rule
	// tables of the same name (rules/data: ca_counties.csv, pofs.csv,
	// pof_golive.csv, provider_types.csv, figure5_pairs.csv,
	// hcpcs_ecm_cs.csv, ...); "" keeps the embedded ones.
	RulesData string `yaml:"rules_data"`
	// SchemasDir is a directory whose JSON Schema files (monthly.schema.json,
	// response.schema.json: DHCS's official ones) replace the embedded
	// schemas of the monthly monitoring JSON; "" keeps ours.
	SchemasDir string `yaml:"schemas_dir"`
	// Timezone decides what "today" is for the date-of-service checks.
	Timezone   string                    `yaml:"timezone"`
	Encounters Encounters                `yaml:"encounters"`
	Providers  Providers                 `yaml:"providers"` // provider roster and 274 files (providers.go)
	Partners   map[string]TradingPartner `yaml:"trading_partners"`
	// Eligibility configures the enrollment and authorization rules
	// (config/enrollment.go, docs/enrollment.md).
	Eligibility Eligibility `yaml:"eligibility"`
	// Limits bound what one input file may take (limits.go).
	Limits Limits `yaml:"limits"`
	ADT    ADT    `yaml:"adt"` // HL7 v2 ADT intake and notices (adt.go)
	// DaemonConfig holds the keys of `calgw run` (daemon.go): sources,
	// destinations, routes, schedules, state, http, retry, pgp.
	DaemonConfig `yaml:",inline"`
	Web          Web `yaml:"web"` // the web console (web.go)
	// Inbound837 configures the intake of providers' 837P (inbound837.go).
	Inbound837 Inbound837 `yaml:"inbound_837p"`
}

// Encounters configures invoice → 837P conversion.
type Encounters struct {
	TradingPartner        string `yaml:"trading_partner"`          // key in trading_partners
	MaxClaimsPerST        int    `yaml:"max_claims_per_st"`        // claims per ST/SE
	TransactionType       string `yaml:"transaction_type"`         // BHT06: RP (encounter reporting) or CH
	ClaimFilingIndicator  string `yaml:"claim_filing_indicator"`   // SBR09: MC = Medicaid
	DefaultPlaceOfService string `yaml:"default_place_of_service"` // CLM05-1 when an invoice gives none
	DefaultDiagnosis      string `yaml:"default_diagnosis"`        // HI when a line gives none
	MemberIDPattern       string `yaml:"member_id_pattern"`        // regular expression a member_cin must match
	SegmentNewlines       bool   `yaml:"segment_newlines"`         // write a line feed after each segment
}

// TradingPartner holds the X12 envelope and header values for one partner.
type TradingPartner struct {
	Interchange struct {
		SenderQualifier   string `yaml:"sender_qualifier"`   // ISA05
		SenderID          string `yaml:"sender_id"`          // ISA06
		ReceiverQualifier string `yaml:"receiver_qualifier"` // ISA07
		ReceiverID        string `yaml:"receiver_id"`        // ISA08
		AuthQualifier     string `yaml:"auth_qualifier"`     // ISA01
		AuthInfo          string `yaml:"auth_info"`          // ISA02
		Usage             string `yaml:"usage"`              // ISA15: T test, P production
		AckRequested      bool   `yaml:"ack_requested"`      // ISA14
	} `yaml:"interchange"`
	Group struct {
		SenderCode   string `yaml:"sender_code"`   // GS02
		ReceiverCode string `yaml:"receiver_code"` // GS03
	} `yaml:"group"`
	Submitter struct {
		Name         string `yaml:"name"`          // 1000A NM103
		ID           string `yaml:"id"`            // 1000A NM109
		ContactName  string `yaml:"contact_name"`  // 1000A PER02
		ContactPhone string `yaml:"contact_phone"` // 1000A PER04
		ContactEmail string `yaml:"contact_email"` // 1000A PER06
	} `yaml:"submitter"`
	Receiver struct {
		Name string `yaml:"name"` // 1000B NM103
		ID   string `yaml:"id"`   // 1000B NM109
	} `yaml:"receiver"`
	Payer struct {
		Name string `yaml:"name"` // 2010BB NM103
		ID   string `yaml:"id"`   // 2010BB NM109
	} `yaml:"payer"`
	// Plan is the plan's DHCS identity. With a TIN, the envelope is built
	// per HCP code: ISA06 = TIN + HCP code, GS02 and 1000A NM109 = TIN
	// (docs/dhcs.md); without one, sender_id, sender_code and submitter.id
	// are used as written.
	Plan Plan `yaml:"plan"`
	// FileName is the pattern of an output file name: {plan}, {hcp},
	// {date} (CCYYMMDD) and {counter} (zero-padded to counter_width) are
	// replaced; "" keeps the gateway's own name.
	FileName     string `yaml:"file_name"`
	CounterWidth int    `yaml:"counter_width"` // digits of {counter}; 0 = 5
}

// Plan is a plan's DHCS identity: its short name, federal TIN and the
// county → HCP (plan) code table. The HCP code is the plan code for a
// county; a member's HCP code is the one of the county of enrollment on the
// date of service.
type Plan struct {
	Name string `yaml:"name"` // {plan} in file names, e.g. IEHP
	TIN  string `yaml:"tin"`  // 9 digits
	// HCPCodes maps a county code (two digits, as the 834 carries it) to
	// the 3-character HCP code of the plan in that county.
	HCPCodes map[string]string `yaml:"hcp_codes"`
	// DefaultHCP is the HCP code of a member whose county is unknown or not
	// in HCPCodes; "" means such a line is rejected.
	DefaultHCP string `yaml:"default_hcp"`
}

// HCPFor returns the HCP code of county ("" and false when there is none).
func (p Plan) HCPFor(county string) (string, bool) {
	if h, ok := p.HCPCodes[county]; ok {
		return h, true
	}
	if p.DefaultHCP != "" {
		return p.DefaultHCP, true
	}
	return "", false
}

// HCPs returns every HCP code of the plan, sorted, without repeats.
func (p Plan) HCPs() []string {
	var out []string
	for _, h := range p.HCPCodes {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	if p.DefaultHCP != "" && !slices.Contains(out, p.DefaultHCP) {
		out = append(out, p.DefaultHCP)
	}
	slices.Sort(out)
	return out
}

// ForHCP returns the profile with the envelope identities of one HCP code:
// with plan.tin set, ISA06 = TIN + HCP, GS02 = TIN and 1000A NM109 = TIN.
// Without a TIN (or HCP code) the profile is returned unchanged.
func (tp TradingPartner) ForHCP(hcp string) TradingPartner {
	if tp.Plan.TIN == "" || hcp == "" {
		return tp
	}
	tp.Interchange.SenderID = tp.Plan.TIN + hcp
	tp.Group.SenderCode = tp.Plan.TIN
	tp.Submitter.ID = tp.Plan.TIN
	return tp
}

// OutputName returns the file name of an output for hcp, or "" when
// file_name is not set.
func (tp TradingPartner) OutputName(hcp string, date time.Time, counter int64) string {
	if tp.FileName == "" {
		return ""
	}
	w := tp.CounterWidth
	if w <= 0 {
		w = 5
	}
	return strings.NewReplacer("{plan}", tp.Plan.Name, "{hcp}", hcp, "{date}", date.Format("20060102"),
		"{counter}", fmt.Sprintf("%0*d", w, counter)).Replace(tp.FileName)
}

// DefaultPartner is the key of the built-in DHCS encounter partner.
const DefaultPartner = "dhcs-encounters"

// Default returns the configuration used when no file is given. The DHCS
// values follow docs/sources/dhcs-observed-formats.md (docs/dhcs.md says
// which value rests on which evidence): receiver CALIFORNIA-DHCS in ISA08,
// GS03 and 1000B with ID 610442 (B1 [P]/[I]); the 2010BB payer
// CALIFORNIA-DHCS / 610442 is reasoning only (B1 [R]). The plan's own
// identity (plan.tin, HCP codes, sender IDs) is a placeholder a plan
// replaces, and usage is "T" (test) so that nothing is sent as production
// by accident.
func Default() *Config {
	var p TradingPartner
	p.Interchange.SenderQualifier = "ZZ"
	p.Interchange.SenderID = "CALAIMPLAN"
	p.Interchange.ReceiverQualifier = "ZZ"
	p.Interchange.ReceiverID = "CALIFORNIA-DHCS"
	p.Interchange.AuthQualifier = "00"
	p.Interchange.Usage = "T"
	p.Group.SenderCode = "CALAIMPLAN"
	p.Group.ReceiverCode = "CALIFORNIA-DHCS"
	p.Submitter.Name = "CALAIM PLAN"
	p.Submitter.ID = "CALAIMPLAN"
	p.Submitter.ContactName = "EDI TEAM"
	p.Submitter.ContactPhone = "9165550100"
	p.Receiver.Name = "CALIFORNIA-DHCS"
	p.Receiver.ID = "610442"
	p.Payer.Name = "CALIFORNIA-DHCS"
	p.Payer.ID = "610442"
	p.FileName = "{plan}_{hcp}_837P_MCE_{date}_{counter}.dat"
	return &Config{
		Timezone: "America/Los_Angeles",
		Encounters: Encounters{
			TradingPartner:        DefaultPartner,
			MaxClaimsPerST:        5000,
			TransactionType:       "RP",
			ClaimFilingIndicator:  "MC",
			DefaultPlaceOfService: "99",
			DefaultDiagnosis:      "Z599",
			MemberIDPattern:       rules.DefaultMemberIDPattern,
		},
		Providers: DefaultProviders(),
		Partners:  map[string]TradingPartner{DefaultPartner: p, ProvidersPartner: DefaultProvidersPartner()},
	}
}

// Load reads path over the defaults ("" = defaults only) and validates.
func Load(path string) (*Config, error) {
	c := Default()
	if path == "" {
		return c, c.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) { // an empty file means all defaults
		return nil, fmt.Errorf("config %s: %w", path, explainYAML(err, b))
	}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Location returns the configured time zone.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.Local
	}
	return loc
}

// EncounterPartner returns the trading partner the encounters go to.
func (c *Config) EncounterPartner() TradingPartner { return c.Partners[c.Encounters.TradingPartner] }

var (
	reDiagnosis = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Z][0-9][0-9A-Z]{1,5}$`) })
	rePOS       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{2}$`) })
)

// Validate checks every value and reports all problems at once.
func (c *Config) Validate() error {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		bad("timezone %q: %v", c.Timezone, err)
	}
	if c.RulesData != "" {
		if st, err := os.Stat(c.RulesData); err != nil || !st.IsDir() {
			bad("rules_data %q: not a directory", c.RulesData)
		}
	}
	if c.SchemasDir != "" {
		if st, err := os.Stat(c.SchemasDir); err != nil || !st.IsDir() {
			bad("schemas_dir %q: not a directory", c.SchemasDir)
		}
	}
	e := &c.Encounters
	if e.MaxClaimsPerST < 1 || e.MaxClaimsPerST > 5000 {
		bad("encounters.max_claims_per_st %d: must be 1..5000 (005010X222A1 recommends at most 5000 claims per transaction set)", e.MaxClaimsPerST)
	}
	if e.TransactionType != "RP" && e.TransactionType != "CH" && e.TransactionType != "31" {
		bad("encounters.transaction_type %q: must be RP, CH or 31 (BHT06)", e.TransactionType)
	}
	if e.ClaimFilingIndicator == "" || len(e.ClaimFilingIndicator) > 2 {
		bad("encounters.claim_filing_indicator %q: must be an SBR09 code such as MC", e.ClaimFilingIndicator)
	}
	if !rePOS().MatchString(e.DefaultPlaceOfService) {
		bad("encounters.default_place_of_service %q: must be a two-digit place of service code", e.DefaultPlaceOfService)
	}
	e.DefaultDiagnosis = strings.ReplaceAll(strings.ToUpper(e.DefaultDiagnosis), ".", "")
	if !reDiagnosis().MatchString(e.DefaultDiagnosis) {
		bad("encounters.default_diagnosis %q: must be an ICD-10-CM code", e.DefaultDiagnosis)
	}
	if _, err := regexp.Compile(e.MemberIDPattern); err != nil {
		bad("encounters.member_id_pattern: %v", err)
	}
	_, ok := c.Partners[e.TradingPartner]
	if !ok {
		bad("encounters.trading_partner %q is not in trading_partners", e.TradingPartner)
	}
	for name, tp := range c.Partners {
		errs = append(errs, tp.validate("trading_partners."+name, name == e.TradingPartner && ok)...)
	}
	errs = append(errs, c.Eligibility.validate()...)
	errs = append(errs, c.validateProviders()...)
	errs = append(errs, c.validateDaemon()...)
	errs = append(errs, c.validateWeb()...)
	errs = append(errs, c.ADT.validate()...)
	errs = append(errs, c.validateNoticeDestinations()...)
	errs = append(errs, c.Inbound837.validate()...)
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

var (
	reISAQualifier = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Z]{2}$`) })
	reTIN          = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{9}$`) })
	reCounty       = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9]{2}$`) })
	reHCP          = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9A-Z]{3}$`) })
)

func (tp TradingPartner) validate(prefix string, used bool) []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, prefix+"."+fmt.Sprintf(format, a...)) }
	i := tp.Interchange
	for _, f := range []struct{ name, v string }{{"interchange.sender_qualifier", i.SenderQualifier}, {"interchange.receiver_qualifier", i.ReceiverQualifier}} {
		if !reISAQualifier().MatchString(f.v) {
			bad("%s %q: must be a two-character ID qualifier such as ZZ or 30", f.name, f.v)
		}
	}
	for _, f := range []struct{ name, v string }{{"interchange.sender_id", i.SenderID}, {"interchange.receiver_id", i.ReceiverID}} {
		if f.v == "" || len(f.v) > 15 {
			bad("%s %q: must be 1 to 15 characters", f.name, f.v)
		}
	}
	if i.AuthQualifier != "" && i.AuthQualifier != "00" && i.AuthQualifier != "03" {
		bad("interchange.auth_qualifier %q: must be 00 or 03", i.AuthQualifier)
	}
	if len(i.AuthInfo) > 10 {
		bad("interchange.auth_info: at most 10 characters")
	}
	if i.Usage != "T" && i.Usage != "P" {
		bad("interchange.usage %q: must be T (test) or P (production)", i.Usage)
	}
	g := tp.Group
	for _, f := range []struct{ name, v string }{{"group.sender_code", g.SenderCode}, {"group.receiver_code", g.ReceiverCode}} {
		if len(f.v) < 2 || len(f.v) > 15 {
			bad("%s %q: must be 2 to 15 characters", f.name, f.v)
		}
	}
	if tp.Submitter.Name == "" || tp.Submitter.ID == "" {
		bad("submitter: name and id are required")
	}
	if tp.Submitter.ContactPhone == "" && tp.Submitter.ContactEmail == "" {
		bad("submitter: contact_phone or contact_email is required (1000A PER)")
	}
	if p := tp.Submitter.ContactPhone; p != "" && digits(p) != 10 {
		// The writers keep the digits only (PER04); the guides want a
		// North American number as AAABBBCCCC.
		bad("submitter.contact_phone %q: must be a 10-digit telephone number, area code first (PER04 AAABBBCCCC)", p)
	}
	if tp.Receiver.Name == "" || tp.Receiver.ID == "" {
		bad("receiver: name and id are required")
	}
	if used && (tp.Payer.Name == "" || tp.Payer.ID == "") {
		bad("payer: name and id are required for encounters")
	}
	pl := tp.Plan
	if pl.TIN != "" && !reTIN().MatchString(pl.TIN) {
		bad("plan.tin %q: must be the plan's 9-digit federal TIN", pl.TIN)
	}
	for county, h := range pl.HCPCodes {
		if !reCounty().MatchString(county) {
			bad("plan.hcp_codes: county %q must be a two-digit county code", county)
		}
		if !reHCP().MatchString(h) {
			bad("plan.hcp_codes: HCP code %q of county %s must be 3 characters", h, county)
		}
	}
	if pl.DefaultHCP != "" && !reHCP().MatchString(pl.DefaultHCP) {
		bad("plan.default_hcp %q: must be 3 characters", pl.DefaultHCP)
	}
	if pl.TIN != "" && len(pl.TIN)+3 > 15 {
		bad("plan.tin: TIN + HCP code must fit ISA06 (15 characters)")
	}
	if strings.Contains(tp.FileName, "/") || strings.Contains(tp.FileName, "\\") {
		bad("file_name %q: a name, not a path", tp.FileName)
	}
	if tp.CounterWidth < 0 || tp.CounterWidth > 9 {
		bad("counter_width %d: must be 0..9", tp.CounterWidth)
	}
	return errs
}

// digits counts the ASCII digits of s.
func digits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}
