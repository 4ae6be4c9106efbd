package rules

import (
	"fmt"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

// Fields of an authorization record a policy finding names; the feed
// decoder maps each to its own column.
const (
	AuthFieldType         = "type"
	AuthFieldStart        = "start"
	AuthFieldEnd          = "end"
	AuthFieldCommunicated = "communicated"
)

// PolicyFinding is what the authorization policy says of one record: a
// rejection (AUTH-PERIOD-POLICY) or, with Warning set, a note on a record
// that loads all the same.
type PolicyFinding struct {
	Rule    string // AuthPeriodPolicy, or AuthFeedInvalid for a warning
	Field   string // one of the AuthField constants
	Warning bool
	Message string // never holds member data
}

// CSAuthorizationType checks the type of a Community Supports
// authorization: a Community Support is authorized initial or
// reauthorization only (the streamlined, automatic and JI pre-release
// types are ECM's). It returns nil when the type is allowed.
func CSAuthorizationType(t domain.AuthType) *PolicyFinding {
	if t == domain.AuthInitial || t == domain.AuthReauthorization {
		return nil
	}
	return &PolicyFinding{Rule: AuthPeriodPolicy, Field: AuthFieldType, Message: fmt.Sprintf(
		"type %s is an ECM authorization; a Community Support is authorized initial or reauthorization (streamlined ECM authorization does not change CS authorization, S004:1715)", t)}
}

// AuthorizationPeriod checks a well-formed authorization record against
// the authorization periods: an ECM authorization runs at most the period
// of its type in force on its start date (12 months initial, 6 months
// reauthorization, per auth_periods.csv); a streamlined authorization
// covers its window whatever its end date says.
func (t *EligibilityTables) AuthorizationPeriod(a *domain.Authorization) []PolicyFinding {
	var fs []PolicyFinding
	p, ok := t.Period(a.Service, a.Type, a.From)
	if a.Type == domain.AuthStreamlined {
		if !ok {
			return append(fs, PolicyFinding{Rule: AuthPeriodPolicy, Field: AuthFieldStart, Message: fmt.Sprintf(
				"no streamlined authorization period is in force on start_date %s (rules/data/auth_periods.csv)", a.From)})
		}
		last := p.Last(a.From)
		if a.Status == domain.AuthDenied && a.Communicated == 0 {
			fs = append(fs, PolicyFinding{Rule: AuthFeedInvalid, Field: AuthFieldCommunicated, Warning: true, Message: fmt.Sprintf(
				"a denied streamlined authorization pays through the day the denial was communicated (S004:1748); without decision_communicated_date its window runs the full %s, through %s", p.Describe(), last)})
		}
		if a.To > last {
			fs = append(fs, PolicyFinding{Rule: AuthFeedInvalid, Field: AuthFieldEnd, Warning: true, Message: fmt.Sprintf(
				"a streamlined authorization covers %s from its start (S004:1701); the window ends %s whatever end_date says: the formal authorization is a record of its own", p.Describe(), last)})
		}
		return fs
	}
	if !ok || a.Status == domain.AuthDenied {
		return nil
	}
	last := p.Last(a.From)
	if a.To > last {
		return append(fs, PolicyFinding{Rule: AuthPeriodPolicy, Field: AuthFieldEnd, Message: fmt.Sprintf(
			"an ECM %s covers at most %s (%s): %s to %s is longer (the period would end %s)", authTypeName(a.Type), p.Describe(), cite(p.Source), a.From, a.To, last)})
	}
	if a.To == 0 {
		fs = append(fs, PolicyFinding{Rule: AuthFeedInvalid, Field: AuthFieldEnd, Warning: true, Message: fmt.Sprintf(
			"no end_date: the authorization covers the policy period of %s, through %s", p.Describe(), last)})
	}
	return fs
}

func authTypeName(t domain.AuthType) string {
	switch t {
	case domain.AuthInitial:
		return "initial authorization"
	case domain.AuthAutoPlanChange:
		return "automatic authorization after a plan change"
	case domain.AuthJIPrerelease:
		return "JI pre-release authorization"
	}
	return string(t)
}

// cite returns the citation at the head of a table's source note.
func cite(source string) string {
	if f := strings.Fields(source); len(f) > 0 && !strings.HasPrefix(f[0], "[") {
		return strings.TrimSuffix(f[0], ",")
	}
	return "rules/data/auth_periods.csv"
}
