package eligibility

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Facts returns the evidence the last line judged was decided on, as the
// judge held it when it decided: the member's 834 spans and other programs
// overlapping the dates of service, the authorizations overlapping them,
// the usage counters and roster contracts the rules read. They are
// gathered on the first call after the line is judged, so that a run that
// keeps no evidence never spends on it.
func (j *Judge) Facts() []store.Fact {
	if j.factsOf != nil {
		j.recordFacts(j.factsOf)
		j.factsOf = nil
	}
	return j.evidence
}

// recordFacts gathers the facts of line l once the rules have decided it.
func (j *Judge) recordFacts(l *domain.InvoiceLine) {
	ev := j.evidence[:0]
	if j.on.Enrollment || j.on.Exclusions || j.on.Authorization {
		if j.member == nil {
			ev = append(ev, store.Fact{Kind: "member", Detail: "no enrollment record (834) for the member"})
		} else {
			n := 0
			for i := range j.member.Spans {
				s := &j.member.Spans[i]
				if s.Overlaps(l.From, l.To) {
					ev = append(ev, SpanFact(s))
					n++
				}
			}
			if n == 0 {
				ev = append(ev, store.Fact{Kind: "span", Detail: fmt.Sprintf("no 834 span overlaps %s..%s (%d spans on file)", l.From, l.To, len(j.member.Spans))})
			}
			ev = append(ev, store.Fact{Kind: "member", Detail: "county " + j.member.County + ", aid code " + j.member.AidCode})
		}
	}
	for i := range j.auths {
		a := &j.auths[i]
		if (a.To == 0 || a.To >= l.From) && (l.To == 0 || a.From <= l.To) || a.Number == l.AuthorizationNumber && a.Number != "" {
			ev = append(ev, AuthFact(a))
		}
	}
	for i := range j.programs {
		p := &j.programs[i]
		if (p.To == 0 || p.To >= l.From) && p.From <= l.To {
			ev = append(ev, store.Fact{Kind: "program", Detail: fmt.Sprintf("%s %s..%s", p.Program, p.From, openEnd(p.To))})
		}
	}
	ev = append(ev, j.readFacts...)
	j.evidence = ev
}

// SpanFact describes an 834 eligibility span.
func SpanFact(s *domain.EligibilitySpan) store.Fact {
	d := fmt.Sprintf("834 span %s..%s plan %s", s.From, openEnd(s.To), s.PlanCode)
	if s.PlanStatus != "" {
		d += " status " + s.PlanStatus
	}
	if len(s.AidCodes) > 0 {
		d += " aid codes " + strings.Join(s.AidCodes, ",")
	}
	if s.County != "" {
		d += " county " + s.County
	}
	if s.ShareOfCost != 0 {
		d += " share of cost " + s.ShareOfCost.String()
	}
	return store.Fact{Kind: "span", Detail: d}
}

// AuthFact describes an authorization.
func AuthFact(a *domain.Authorization) store.Fact {
	d := fmt.Sprintf("%s %s %s %s %s..%s", a.Number, a.Service, a.Status, a.Type, a.From, openEnd(a.To))
	if a.ProviderNPI != "" {
		d += " provider " + a.ProviderNPI
	}
	if a.POF != "" {
		d += " " + a.POF
	}
	if a.HasUnits {
		d += " units authorized " + a.Units.String()
	}
	if a.Source.File != "" {
		d += " (" + a.Source.File
		if a.Source.Row > 0 {
			d += " row " + strconv.Itoa(a.Source.Row)
		}
		d += ")"
	}
	return store.Fact{Kind: "authorization", Detail: d}
}

// ContractFact describes a roster contract.
func ContractFact(c *domain.ProviderContract) store.Fact {
	d := fmt.Sprintf("roster contract NPI %s site %q county %s %s..%s", c.NPI, c.Site, c.County, c.From, openEnd(c.To))
	if len(c.Types) > 0 {
		d += " types " + strings.Join(c.Types, ",")
	}
	if len(c.POFs) > 0 {
		d += " POFs " + strings.Join(c.POFs, ",")
	}
	if len(c.CommunitySupports) > 0 {
		d += " CS " + strings.Join(c.CommunitySupports, ",")
	}
	return store.Fact{Kind: "contract", Detail: d}
}

func usageFact(key string, amount int64, first civil.Date) store.Fact {
	d := key + " so far " + strconv.FormatInt(amount, 10)
	if first != 0 {
		d += " since " + first.String()
	}
	return store.Fact{Kind: "usage", Detail: d}
}

func openEnd(d civil.Date) string {
	if d == 0 {
		return "open"
	}
	return d.String()
}
