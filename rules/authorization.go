package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// BasisKind is what lets a line through AUTH-MISSING.
type BasisKind uint8

const (
	BasisNone         BasisKind = iota
	BasisOutreach               // AUTH-OUTREACH-EXEMPT
	BasisApproved               // an approved authorization covers the dates
	BasisStreamlined            // AUTH-STREAMLINED-WINDOW
	BasisJIPrerelease           // AUTH-JI-PRERELEASE
)

// Basis is the authorization a line is billed under, or why there is none.
type Basis struct {
	Kind     BasisKind
	Auth     *domain.Authorization // the covering authorization (nil for outreach and none)
	decision *Decision             // AUTH-MISSING or AUTH-OTHER-PROVIDER
}

// Basis works out the authorization a line is billed under (exported for
// explanations and tests).
func (e *Eligibility) Basis(f *Facts, l *domain.InvoiceLine, leg *CodeLeg) (Basis, *Decision) {
	b := e.basis(f, l, leg)
	return b, b.decision
}

// coverage returns the dates an authorization covers as an approved or
// presumptive authorization: its start and end, or the policy period from
// auth_periods.csv when the feed gave no end (open when there is none).
func (e *Eligibility) coverage(a *domain.Authorization) (from, to civil.Date, ok bool) {
	to = a.To
	if to == 0 {
		if p, found := e.Data.Period(a.Service, a.Type, a.From); found {
			to = p.Last(a.From)
		}
	}
	return a.From, to, a.From != 0
}

// streamlinedWindow returns the days a streamlined authorization covers:
// 30 calendar days from its start, ended early by its end_date or, when
// denied, at the end of the day the denial was communicated.
func (e *Eligibility) streamlinedWindow(a *domain.Authorization) (from, to civil.Date, ok bool) {
	p, found := e.Data.Period(a.Service, domain.AuthStreamlined, a.From)
	if !found || a.From == 0 {
		return 0, 0, false
	}
	to = p.Last(a.From)
	if a.To != 0 && a.To < to {
		to = a.To
	}
	if a.Status == domain.AuthDenied && a.Communicated != 0 && a.Communicated < to {
		to = a.Communicated
	}
	return a.From, to, to >= a.From
}

// providerMatches reports whether the line is billed or rendered by the
// authorization's provider ("" = any provider).
func providerMatches(a *domain.Authorization, l *domain.InvoiceLine) bool {
	return a.ProviderNPI == "" || a.ProviderNPI == l.Billing.NPI || (l.Rendering.NPI != "" && a.ProviderNPI == l.Rendering.NPI)
}

// streamlinedProvider reports whether a provider may work under streamlined
// authorization for pof on dos: the roster has it contracted for the POF
// with a Figure 5 provider type or Community Support, or the plan extended
// streamlined authorization to it.
func (e *Eligibility) streamlinedProvider(f *Facts, npi, pof string, dos civil.Date) bool {
	for _, x := range e.Extensions {
		if x.NPI == npi && (len(x.POFs) == 0 || slices.Contains(x.POFs, pof)) && dos >= x.From && (x.To == 0 || dos <= x.To) {
			return true
		}
	}
	if f.Contracts == nil || e.Tables == nil {
		return false
	}
	for _, c := range f.Contracts(npi) {
		if c.Covers(dos) && slices.Contains(c.POFs, pof) && e.Tables.StreamlinedPair(pof, c.Types, c.CommunitySupports, dos) {
			return true
		}
	}
	return false
}

// basis finds what covers the line. The rules, in order:
//   - outreach legs need no authorization (AUTH-OUTREACH-EXEMPT);
//   - an approved authorization (initial, reauthorization, auto after a plan
//     change) of the service and provider that covers every date of service;
//   - a JI pre-release ECM authorization that is not denied, from its start
//     (the release date) (AUTH-JI-PRERELEASE);
//   - a streamlined ECM authorization's 30-day window, for a provider that
//     qualifies (AUTH-STREAMLINED-WINDOW), unless the member has an approved
//     ECM authorization with another provider then (AUTH-OTHER-PROVIDER).
//
// When several cover the line, the one the invoice names wins.
func (e *Eligibility) basis(f *Facts, l *domain.InvoiceLine, leg *CodeLeg) Basis {
	if leg == nil {
		return Basis{}
	}
	if leg.Outreach {
		return Basis{Kind: BasisOutreach}
	}
	var best Basis
	named := func(a *domain.Authorization) bool {
		return l.AuthorizationNumber != "" && a.Number == l.AuthorizationNumber
	}
	better := func(k BasisKind, a *domain.Authorization) {
		if best.Kind != BasisNone && (named(best.Auth) || !named(a) && k >= best.Kind) {
			return // keep the one the line names, else an approved one over an exception
		}
		best = Basis{Kind: k, Auth: a}
	}
	var streamlinedOther *domain.Authorization
	for i := range f.Auths {
		a := &f.Auths[i]
		if a.Service != leg.ServiceID || !providerMatches(a, l) {
			continue
		}
		switch a.Type {
		case domain.AuthStreamlined:
			if a.Service != "ECM" {
				continue
			}
			from, to, ok := e.streamlinedWindow(a)
			if !ok || l.From < from || l.To > to {
				continue
			}
			npi := a.ProviderNPI
			if npi == "" {
				npi = l.Billing.NPI
			}
			if !e.streamlinedProvider(f, npi, a.POF, l.From) {
				continue
			}
			if o := e.otherProviderECM(f, a, l); o != nil {
				streamlinedOther = o
				continue
			}
			better(BasisStreamlined, a)
		case domain.AuthJIPrerelease:
			if a.Status == domain.AuthDenied {
				continue
			}
			if from, to, ok := e.coverage(a); ok && l.From >= from && (to == 0 || l.To <= to) {
				better(BasisJIPrerelease, a)
			}
		default:
			if a.Status != domain.AuthApproved {
				continue
			}
			if from, to, ok := e.coverage(a); ok && l.From >= from && (to == 0 || l.To <= to) {
				better(BasisApproved, a)
			}
		}
	}
	if best.Kind != BasisNone {
		return best
	}
	if streamlinedOther != nil {
		best.decision = &Decision{Rule: AuthOtherProvider, Field: "authorization_number", Message: fmt.Sprintf(
			"the member has an open ECM authorization with another ECM provider (%s) on %s: the streamlined authorization window is not paid (S004:1753)",
			streamlinedOther.Number, l.From)}
		return best
	}
	best.decision = &Decision{Rule: AuthMissing, Field: "authorization_number", Message: e.missingMessage(f, l, leg)}
	return best
}

// otherProviderECM returns an approved ECM authorization of the member with
// another provider that covers the line's first date of service.
func (e *Eligibility) otherProviderECM(f *Facts, mine *domain.Authorization, l *domain.InvoiceLine) *domain.Authorization {
	for i := range f.Auths {
		a := &f.Auths[i]
		if a.Service != "ECM" || a.Status != domain.AuthApproved || a.Type == domain.AuthStreamlined || a.ProviderNPI == "" || providerMatches(a, l) {
			continue
		}
		if a.ProviderNPI == mine.ProviderNPI {
			continue
		}
		if from, to, ok := e.coverage(a); ok && l.From >= from && (to == 0 || l.From <= to) {
			return a
		}
	}
	return nil
}

// missingMessage explains AUTH-MISSING with what the feed has for the
// member and service (authorization numbers, statuses and dates only).
func (e *Eligibility) missingMessage(f *Facts, l *domain.InvoiceLine, leg *CodeLeg) string {
	what := leg.ServiceName
	if leg.ServiceID == "ECM" {
		what = "ECM"
	}
	dates := l.From.String()
	if l.To != l.From {
		dates += " to " + l.To.String()
	}
	msg := fmt.Sprintf("no approved %s authorization for this member and provider covers %s", what, dates)
	var notes []string
	for i := range f.Auths {
		a := &f.Auths[i]
		if a.Service != leg.ServiceID {
			continue
		}
		var note string
		switch {
		case !providerMatches(a, l):
			note = a.Number + " is for another provider"
		case a.Type == domain.AuthStreamlined:
			from, to, ok := e.streamlinedWindow(a)
			switch {
			case !ok:
				note = a.Number + " (streamlined) has no window on its start date"
			case l.From < from || l.To > to:
				note = fmt.Sprintf("%s (streamlined) covers %s to %s", a.Number, from, to)
			default:
				note = a.Number + " (streamlined): the provider is not a Figure 5 pair for " + a.POF + " in the roster nor a configured extension"
			}
		case a.Status != domain.AuthApproved && !(a.Type == domain.AuthJIPrerelease && a.Status == domain.AuthPending):
			note = fmt.Sprintf("%s is %s", a.Number, a.Status)
		default:
			from, to, _ := e.coverage(a)
			if to == 0 {
				note = fmt.Sprintf("%s covers from %s", a.Number, from)
			} else {
				note = fmt.Sprintf("%s covers %s to %s", a.Number, from, to)
			}
		}
		if a.Number == l.AuthorizationNumber {
			note += " (named on the line)"
		}
		notes = append(notes, note)
		if len(notes) == 4 {
			notes = append(notes, "...")
			break
		}
	}
	if n := l.AuthorizationNumber; n != "" {
		switch i := slices.IndexFunc(f.Auths, func(a domain.Authorization) bool { return a.Number == n }); {
		case i < 0:
			notes = append(notes, "authorization "+n+" named on the line is not on file for this member")
		case f.Auths[i].Service != leg.ServiceID:
			notes = append(notes, "authorization "+n+" named on the line is for another service ("+f.Auths[i].Service+")")
		}
	}
	if len(notes) > 0 {
		msg += " (" + strings.Join(notes, "; ") + ")"
	}
	return msg
}

// POF-NOT-LIVE.
func (e *Eligibility) pofNotLive(f *Facts, l *domain.InvoiceLine, leg *CodeLeg, b *Basis) *Decision {
	if leg == nil || leg.Program != ProgramECM || b.Auth == nil || b.Auth.POF == "" || e.Tables == nil {
		return nil
	}
	county := ""
	if m := f.Member; m != nil {
		county = m.County
		for i := range m.Spans {
			if s := &m.Spans[i]; s.Covers(l.From) && s.County != "" {
				county = s.County
				break
			}
		}
	}
	live, ok := e.Tables.POFLiveFrom(b.Auth.POF, county)
	if !ok || l.From >= live {
		return nil
	}
	where := "statewide"
	if county != "" {
		where = "in county " + county
		if name := e.Tables.Counties[county]; name != "" {
			where = "in " + name + " County"
		}
	}
	return &Decision{Rule: POFNotLive, Field: "service_from", Message: fmt.Sprintf(
		"population of focus %s of authorization %s went live %s on %s, after the date of service %s", b.Auth.POF, b.Auth.Number, where, live, l.From)}
}

// UnitsKey is the usage counter of an authorization's units.
func UnitsKey(number string) string { return "auth-units:" + number }

// AUTH-UNITS-EXCEEDED: the units sent under the covering authorization, in
// every run, plus this line's must not exceed units_authorized. Units are
// counted for every approved or presumptive authorization, so that a limit
// added later sees what was sent before.
func (e *Eligibility) unitsExceeded(f *Facts, l *domain.InvoiceLine, b *Basis) (*Decision, []Use) {
	if b.Auth == nil || f.Usage == nil {
		return nil, nil
	}
	key := UnitsKey(b.Auth.Number)
	use := []Use{{Key: key, Amount: int64(l.Units), Date: l.From}}
	if !b.Auth.HasUnits {
		return nil, use
	}
	used, _ := f.Usage(key)
	if used+int64(l.Units) <= int64(b.Auth.Units) {
		return nil, use
	}
	return &Decision{Rule: AuthUnitsExceeded, Field: "units", Message: fmt.Sprintf(
		"authorization %s allows %s units in all: %s already billed under it, and this line bills %s more",
		b.Auth.Number, b.Auth.Units, domain.Quantity(used), l.Units)}, nil
}

// LimitKey is the usage counter of a Community Supports limit for the
// days of a line from day on: a calendar-year limit counts each day in the
// counter of its own year.
func LimitKey(lim *CSLimit, l *domain.InvoiceLine, b *Basis, day civil.Date) (string, bool) {
	switch lim.Per {
	case "member":
		return "cs:" + lim.Service + ":" + l.Member.CIN, true
	case "calendar_year":
		return "cs:" + lim.Service + ":" + l.Member.CIN + ":" + strconv.Itoa(day.Year()), true
	case "authorization":
		if b == nil || b.Auth == nil {
			return "", false
		}
		return "cs:" + lim.Service + ":auth:" + b.Auth.Number, true
	}
	return "", false
}

// CS-LIMIT. A calendar-year limit in days counts the days of a line that
// runs into the next year in that year's counter; units, which have no
// date of their own, count in the year of the line's first date.
func (e *Eligibility) csLimit(f *Facts, l *domain.InvoiceLine, leg *CodeLeg, b *Basis) (*Decision, []Use) {
	if leg == nil || f.Usage == nil {
		return nil, nil
	}
	lim, ok := e.Data.Limit(leg.ServiceID, l.From)
	if !ok {
		return nil, nil
	}
	var uses []Use
	for from := l.From; ; {
		to := l.To
		if lim.Per == "calendar_year" && lim.Measure == "days" && to.Year() > from.Year() {
			to = civil.New(from.Year(), time.December, 31)
		}
		key, ok := LimitKey(lim, l, b, from)
		if !ok {
			return nil, nil
		}
		d, use := e.csLimitOf(f, l, leg, lim, key, from, to)
		if d != nil {
			return d, nil
		}
		uses = append(uses, use)
		if to >= l.To {
			return nil, uses
		}
		from = to.AddDays(1)
	}
}

// csLimitOf decides CS-LIMIT for the days from..to of a line (all its
// units) against the counter key.
func (e *Eligibility) csLimitOf(f *Facts, l *domain.InvoiceLine, leg *CodeLeg, lim *CSLimit, key string, from, to civil.Date) (*Decision, Use) {
	amount := int64(l.Units)
	if lim.Measure == "days" {
		amount = int64(from.DaysUntil(to) + 1)
	}
	used, first := f.Usage(key)
	use := Use{Key: key, Amount: amount, Date: from}
	budget, unit := lim.Max, "units"
	desc := fmt.Sprintf("%s units", domain.Quantity(lim.Max))
	switch lim.Unit {
	case "day":
		unit, desc = "days", fmt.Sprintf("%d days", lim.Max)
	case "month":
		if first == 0 || from < first {
			first = from
		}
		budget = int64(first.DaysUntil(first.AddMonths(int(lim.Max))))
		unit = "days"
		desc = fmt.Sprintf("%d months (%d days from the first day of service %s)", lim.Max, budget, first)
	}
	if used+amount <= budget {
		return nil, use
	}
	usedS, amountS := strconv.FormatInt(used, 10), strconv.FormatInt(amount, 10)
	if lim.Measure == "units" {
		usedS, amountS = domain.Quantity(used).String(), domain.Quantity(amount).String()
	}
	per := strings.ReplaceAll(lim.Per, "_", " ")
	if lim.Per == "calendar_year" {
		per += " (" + strconv.Itoa(from.Year()) + ")"
	}
	return &Decision{Rule: CSLimitExceeded, Field: "service_to", Message: fmt.Sprintf(
		"%s is limited to %s per %s: %s %s already billed, and this line adds %s (limit from rules/data/cs_limits.csv)",
		leg.ServiceName, desc, per, usedS, unit, amountS)}, Use{}
}

// TR-NEEDS-ECM.
func (e *Eligibility) trNeedsECM(f *Facts, l *domain.InvoiceLine, leg *CodeLeg) *Decision {
	if leg == nil || leg.Program != ProgramTR {
		return nil
	}
	var iv [][2]civil.Date
	for i := range f.Auths {
		a := &f.Auths[i]
		if a.Service != "ECM" {
			continue
		}
		var from, to civil.Date
		var ok bool
		switch {
		case a.Type == domain.AuthStreamlined:
			from, to, ok = e.streamlinedWindow(a)
		case a.Type == domain.AuthJIPrerelease && a.Status != domain.AuthDenied:
			from, to, ok = e.coverage(a)
		case a.Status == domain.AuthApproved:
			from, to, ok = e.coverage(a)
		}
		if ok {
			iv = append(iv, [2]civil.Date{from, to})
		}
	}
	if ok, day := unionCovers(iv, l.From, l.To); !ok {
		return &Decision{Rule: TRNeedsECM, Field: "service_from", Message: fmt.Sprintf(
			"Transitional Rent requires an ECM authorization for the member; none covers %s (S004:250)", day)}
	}
	return nil
}
