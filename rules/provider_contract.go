package rules

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// ProviderNotContracted rejects a line whose billing provider is not
// contracted, on every date of service, for the service billed.
const ProviderNotContracted = "PROVIDER-NOT-CONTRACTED"

// ContractQuery is what PROVIDER-NOT-CONTRACTED needs of a line.
type ContractQuery struct {
	NPI      string     // billing provider
	From, To civil.Date // dates of service (To zero: From)
	Leg      *CodeLeg   // the coding-table leg the line resolved to
	// POF is the line's ECM population of focus when one is known (for
	// instance from the member's authorization); "" means any contracted
	// ECM population of focus will do.
	POF string
}

// CheckProviderContract decides PROVIDER-NOT-CONTRACTED for one line
// against the billing provider's contracts (all its roster sites). The
// line passes when, on every date of service, some site of the provider
// is contracted for what the line bills:
//
//   - ECM (program ECM, outreach included): an ECM population of focus —
//     q.POF when set, otherwise any;
//   - a Community Support, Transitional Rent or housing outreach: the
//     leg's service id (CS01…CS14, TR, HO) in the site's community_supports.
//
// Several sites may cover the span between them (one contract ending, the
// next starting the day after). A nil leg (the line failed the coding
// table) is left to CODE-NOT-ALLOWED and passes here.
func CheckProviderContract(contracts []domain.ProviderContract, q ContractQuery) *Decision {
	if q.Leg == nil {
		return nil
	}
	from, to := q.From, q.To
	if to == 0 || to < from {
		to = from
	}
	span := from.String()
	if to != from {
		span += " to " + to.String()
	}
	what, offers := service(q)
	reject := func(format string, a ...any) *Decision {
		return &Decision{Rule: ProviderNotContracted, Field: "billing_npi", Message: fmt.Sprintf(format, a...)}
	}
	if len(contracts) == 0 {
		return reject("billing NPI %s is not in the provider roster: no contract for %s on %s", q.NPI, what, span)
	}
	var fit []domain.ProviderContract
	for _, c := range contracts {
		if offers(&c) {
			fit = append(fit, c)
		}
	}
	if len(fit) == 0 {
		return reject("billing NPI %s is not contracted for %s (roster: %s)", q.NPI, what, contractedFor(contracts))
	}
	if gap, ok := covered(fit, from, to); !ok {
		return reject("billing NPI %s is contracted for %s only %s, not on %s (date of service %s)", q.NPI, what, periods(fit), gap, span)
	}
	return nil
}

// service names what the line bills and says whether a contract offers it.
func service(q ContractQuery) (string, func(*domain.ProviderContract) bool) {
	if q.Leg.Program == ProgramECM {
		if q.POF != "" {
			return "ECM population of focus " + q.POF, func(c *domain.ProviderContract) bool { return slices.Contains(c.POFs, q.POF) }
		}
		return "ECM (any population of focus)", func(c *domain.ProviderContract) bool { return len(c.POFs) > 0 }
	}
	id := q.Leg.ServiceID
	return fmt.Sprintf("%s %s (%s)", serviceKind(q.Leg.Program), id, q.Leg.ServiceName),
		func(c *domain.ProviderContract) bool { return slices.Contains(c.CommunitySupports, id) }
}

func serviceKind(p Program) string {
	switch p {
	case ProgramTR:
		return "Transitional Rent"
	case ProgramOutreach:
		return "outreach service"
	}
	return "Community Support"
}

// covered reports whether the contracts cover every day of [from, to],
// and if not the first day they miss.
func covered(cs []domain.ProviderContract, from, to civil.Date) (civil.Date, bool) {
	slices.SortFunc(cs, func(a, b domain.ProviderContract) int { return cmp.Compare(a.From, b.From) })
	day := from
	for _, c := range cs {
		if c.From > day {
			break
		}
		if c.To == 0 || c.To >= to {
			return 0, true
		}
		if c.To >= day {
			day = c.To.AddDays(1)
		}
	}
	return day, false
}

func periods(cs []domain.ProviderContract) string {
	var out []string
	for _, c := range cs {
		end := "open"
		if c.To != 0 {
			end = c.To.String()
		}
		out = append(out, c.From.String()+" to "+end)
	}
	return strings.Join(out, ", ")
}

func contractedFor(cs []domain.ProviderContract) string {
	var pofs, css []string
	for _, c := range cs {
		for _, p := range c.POFs {
			if !slices.Contains(pofs, p) {
				pofs = append(pofs, p)
			}
		}
		for _, s := range c.CommunitySupports {
			if !slices.Contains(css, s) {
				css = append(css, s)
			}
		}
	}
	var parts []string
	if len(pofs) > 0 {
		parts = append(parts, "ECM "+strings.Join(pofs, " "))
	}
	if len(css) > 0 {
		parts = append(parts, "Community Supports "+strings.Join(css, " "))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, "; ")
}
