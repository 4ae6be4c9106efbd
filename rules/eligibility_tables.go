package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// AuthPeriod is a row of auth_periods.csv: the policy length of an
// authorization type (or the streamlined window).
type AuthPeriod struct {
	Service  string // coding-table service id
	Type     domain.AuthType
	N        int
	Months   bool // N calendar months; false = N calendar days
	From, To civil.Date
	Source   string
}

// Last returns the last day of the period for an authorization starting on
// start: the day before the same day N months on, or start + N - 1 days.
// When that month has no such day (6 months from August 31), the period
// runs to the month's end (February 28 or 29), so that an authorization
// a plan ends there is not longer than the policy's period.
func (p *AuthPeriod) Last(start civil.Date) civil.Date {
	if p.Months {
		end := start.AddMonths(p.N)
		if end.Day() != start.Day() {
			return end // the month's last day: start's day is past it
		}
		return end.AddDays(-1)
	}
	return start.AddDays(p.N - 1)
}

// Describe says "12 months" or "30 days".
func (p *AuthPeriod) Describe() string {
	unit := "day"
	if p.Months {
		unit = "month"
	}
	if p.N != 1 {
		unit += "s"
	}
	return strconv.Itoa(p.N) + " " + unit
}

// CSLimit is a row of cs_limits.csv. A zero Max means no limit.
type CSLimit struct {
	Service  string
	Measure  string // "days" or "units"
	Max      int64  // days, months or units; thousandths for units
	Unit     string // "day", "month" or "unit"
	Per      string // "member", "calendar_year" or "authorization"
	From, To civil.Date
	Source   string
}

// Exclusion is a row of ecm_exclusions.csv: a program that excludes ECM.
type Exclusion struct {
	Program      string
	Name         string
	From, To     civil.Date // when the program excludes ECM
	ContinuityOn civil.Date // an ECM authorization in force on this day...
	ContinuityTo civil.Date // ...keeps ECM through this day
	Source       string
}

// DSNPContract is a row of dsnp_contracts.csv.
type DSNPContract struct {
	Contract, PBP string
	Kind          string // fide_snp, eae_dsnp or non_eae_dsnp
	From, To      civil.Date
	Source        string
}

// EligibilityTables are the rule data of the enrollment and authorization
// rules, read from the rule data directory (see DataFS).
type EligibilityTables struct {
	Periods    []AuthPeriod
	Limits     []CSLimit
	Exclusions map[string]Exclusion
	DSNP       []DSNPContract
}

// LoadEligibilityTables reads auth_periods.csv, cs_limits.csv,
// ecm_exclusions.csv and dsnp_contracts.csv, reporting every bad row.
func LoadEligibilityTables(fsys fs.FS) (*EligibilityTables, error) {
	t := &EligibilityTables{Exclusions: map[string]Exclusion{}}
	var errs []error
	if tab, err := readTable(fsys, "auth_periods.csv", "service", "type", "period", "period_unit", "effective_from", "effective_to", "source"); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range tab.rows {
			p := AuthPeriod{Service: strings.ToUpper(r.Get("service")), Type: domain.AuthType(strings.ToLower(r.Get("type"))), Source: r.Get("source")}
			var err error
			if p.From, p.To, err = tab.dateRange(r, "effective_from", "effective_to"); err != nil {
				errs = append(errs, err)
				continue
			}
			if !validAuthType(p.Type) {
				errs = append(errs, r.Errorf("type %q is not initial, reauthorization, streamlined, auto_plan_change or ji_prerelease", p.Type))
			}
			n, err := strconv.Atoi(r.Get("period"))
			if err != nil || n < 1 {
				errs = append(errs, r.Errorf("period %q is not a positive whole number", r.Get("period")))
			}
			p.N = n
			switch r.Get("period_unit") {
			case "month":
				p.Months = true
			case "day":
			default:
				errs = append(errs, r.Errorf("period_unit %q is not month or day", r.Get("period_unit")))
			}
			t.Periods = append(t.Periods, p)
		}
	}
	if tab, err := readTable(fsys, "cs_limits.csv", "service_id", "measure", "max", "unit", "per", "effective_from", "effective_to", "source"); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range tab.rows {
			l := CSLimit{Service: strings.ToUpper(r.Get("service_id")), Measure: r.Get("measure"), Unit: r.Get("unit"), Per: r.Get("per"), Source: r.Get("source")}
			var err error
			if l.From, l.To, err = tab.dateRange(r, "effective_from", "effective_to"); err != nil {
				errs = append(errs, err)
				continue
			}
			if l.Service == "" {
				errs = append(errs, r.Errorf("service_id is required"))
			}
			if r.Get("max") == "" {
				t.Limits = append(t.Limits, l) // a parameter the plan has not filled in
				continue
			}
			switch {
			case l.Measure == "days" && (l.Unit == "day" || l.Unit == "month"):
			case l.Measure == "units" && l.Unit == "unit":
			default:
				errs = append(errs, r.Errorf("measure %q with unit %q: want days with day or month, or units with unit", l.Measure, l.Unit))
				continue
			}
			switch l.Per {
			case "member", "calendar_year", "authorization":
			default:
				errs = append(errs, r.Errorf("per %q is not member, calendar_year or authorization", l.Per))
				continue
			}
			if l.Measure == "units" {
				q, ok := parseThousandths(r.Get("max"))
				if !ok || q <= 0 {
					errs = append(errs, r.Errorf("max %q is not a positive number of units", r.Get("max")))
					continue
				}
				l.Max = q
			} else {
				n, err := strconv.Atoi(r.Get("max"))
				if err != nil || n <= 0 {
					errs = append(errs, r.Errorf("max %q is not a positive whole number", r.Get("max")))
					continue
				}
				l.Max = int64(n)
			}
			t.Limits = append(t.Limits, l)
		}
	}
	if tab, err := readTable(fsys, "ecm_exclusions.csv", "program", "name", "excluded_from", "excluded_to", "continuity_active_on", "continuity_to", "source"); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range tab.rows {
			x := Exclusion{Program: strings.ToLower(r.Get("program")), Name: r.Get("name"), Source: r.Get("source")}
			var err error
			if x.From, x.To, err = tab.dateRange(r, "excluded_from", "excluded_to"); err != nil {
				errs = append(errs, err)
				continue
			}
			if on, to := r.Get("continuity_active_on"), r.Get("continuity_to"); on != "" || to != "" {
				if x.ContinuityOn, x.ContinuityTo, err = tab.dateRange(r, "continuity_active_on", "continuity_to"); err != nil || x.ContinuityTo == 0 {
					errs = append(errs, r.Errorf("continuity_active_on and continuity_to go together as dates"))
					continue
				}
			}
			if x.Program == "" || x.Name == "" {
				errs = append(errs, r.Errorf("program and name are required"))
				continue
			}
			if _, dup := t.Exclusions[x.Program]; dup {
				errs = append(errs, r.Errorf("program %q is listed twice", x.Program))
			}
			t.Exclusions[x.Program] = x
		}
	}
	if tab, err := readTable(fsys, "dsnp_contracts.csv", "contract", "pbp", "kind", "effective_from", "effective_to", "source"); err != nil {
		errs = append(errs, err)
	} else {
		for _, r := range tab.rows {
			c := DSNPContract{Contract: strings.ToUpper(r.Get("contract")), PBP: r.Get("pbp"), Kind: strings.ToLower(r.Get("kind")), Source: r.Get("source")}
			var err error
			if c.From, c.To, err = tab.dateRange(r, "effective_from", "effective_to"); err != nil {
				errs = append(errs, err)
				continue
			}
			switch c.Kind {
			case "fide_snp", "eae_dsnp", "non_eae_dsnp":
			default:
				errs = append(errs, r.Errorf("kind %q is not fide_snp, eae_dsnp or non_eae_dsnp", c.Kind))
				continue
			}
			if c.Contract == "" {
				errs = append(errs, r.Errorf("contract is required"))
				continue
			}
			t.DSNP = append(t.DSNP, c)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// DefaultEligibilityTables returns the embedded tables.
func DefaultEligibilityTables() *EligibilityTables {
	t, err := LoadEligibilityTables(DataFS(""))
	if err != nil {
		panic("rules: embedded eligibility tables: " + err.Error())
	}
	return t
}

// Period returns the auth_periods.csv row for an authorization of this
// service and type starting on start, if any.
func (t *EligibilityTables) Period(service string, typ domain.AuthType, start civil.Date) (*AuthPeriod, bool) {
	for i := range t.Periods {
		p := &t.Periods[i]
		if p.Service == service && p.Type == typ && start >= p.From && (p.To == 0 || start <= p.To) {
			return p, true
		}
	}
	return nil, false
}

// Limit returns the limit in force for service on dos (Max zero = none).
func (t *EligibilityTables) Limit(service string, dos civil.Date) (*CSLimit, bool) {
	for i := range t.Limits {
		l := &t.Limits[i]
		if l.Service == service && dos >= l.From && (l.To == 0 || dos <= l.To) && l.Max > 0 {
			return l, true
		}
	}
	return nil, false
}

// DSNPKind classifies a D-SNP contract and PBP on d ("" when unknown).
func (t *EligibilityTables) DSNPKind(contract, pbp string, d civil.Date) string {
	contract = strings.ToUpper(contract)
	for _, c := range t.DSNP {
		if c.Contract == contract && (c.PBP == "" || c.PBP == pbp) && d >= c.From && (c.To == 0 || d <= c.To) {
			return c.Kind
		}
	}
	return ""
}

func validAuthType(t domain.AuthType) bool {
	switch t {
	case domain.AuthInitial, domain.AuthReauthorization, domain.AuthStreamlined, domain.AuthAutoPlanChange, domain.AuthJIPrerelease:
		return true
	}
	return false
}

// ValidAuthType reports whether t is one of the feed's authorization types.
func ValidAuthType(t domain.AuthType) bool { return validAuthType(t) }

// parseThousandths reads a non-negative decimal with up to 3 decimals.
func parseThousandths(s string) (int64, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 3 {
		return 0, false
	}
	if whole == "" {
		whole = "0"
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || n < 0 || n > 1e12 {
		return 0, false
	}
	f := int64(0)
	for i := 0; i < 3; i++ {
		f *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			f += int64(c - '0')
		}
	}
	return n*1000 + f, true
}

// ParseUnits reads a quantity of units ("10", "2.5") in thousandths.
func ParseUnits(s string) (domain.Quantity, error) {
	q, ok := parseThousandths(strings.TrimSpace(s))
	if !ok {
		return 0, fmt.Errorf("%q is not a number of units (up to 3 decimals)", s)
	}
	return domain.Quantity(q), nil
}
