package monthly

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Data set names (schemas.DataSets).
const (
	DSEnrollment       = "ecmEnrollment"
	DSPOF              = "populationsOfFocus"
	DSOutreach         = "outreach"
	DSECMAuths         = "ecmAuthorizations"
	DSLeadCareManager  = "leadCareManager"
	DSECMNetwork       = "ecmProviderNetwork"
	DSCSAuths          = "csAuthorizations"
	DSCSServices       = "csServicesReceived"
	DSCSUtilization    = "csUtilization"
	DSCSNetwork        = "csProviderNetwork"
	DSClosedLoop       = "closedLoopReferrals"
	DSTransitionalRent = "transitionalRent"
)

// Service ids of the coding table the mapping treats apart.
const (
	ServiceECM              = "ECM"
	ServiceTransitionalRent = "TR"
)

// Absent lists what the file cannot carry because the gateway's state has
// no source for it: each field is null (or the data set empty) in every
// record, never invented.
var Absent = []struct{ Where, What, Why string }{
	{DSECMAuths + ", " + DSCSAuths, "requestDate, turnaroundDays", "the authorization feed carries no request date"},
	{DSECMAuths + ", " + DSCSAuths, "denialReason", "the authorization feed carries no denial reason (DHCS reason codes are not public)"},
	{DSLeadCareManager, "leadCareManagerName", "the state names the ECM provider (the authorization's NPI), not the individual lead care manager"},
	{DSOutreach, "outreachOutcome Successful / Unsuccessful", "G9012 U8 covers both outcomes: attempts are Not Reported unless OutreachCodes names a code for one (none does yet)"},
	{DSOutreach, "outreachMethod In Person / Telephonic/Video", "no verified source says which outreach codes are in person: attempts are Not Reported unless OutreachCodes names a code for one (none does yet)"},
	{DSClosedLoop, "every record", "no closed-loop referral source in the state: the array is empty"},
	{"(all)", "ADT-derived data (admissions, discharges, transfers)", "the state keeps ADT events, but no data element of the schema takes them (DHCS's published JSON phases name none)"},
	{"(all)", "provider returns (supplemental provider reports)", "the state has no provider return feed yet"},
}

// NotReported is what an outreach field holds when the outreach code does
// not tell (an enumeration value of the schema, never a guess).
const NotReported = "Not Reported"

// OutreachCode says what an outreach code (HCPCS and its sorted
// modifiers, exactly) reports of an attempt, from a date: its outcome
// (Successful, Unsuccessful or Not Reported) and its method (In Person,
// Telephonic/Video or Not Reported).
type OutreachCode struct {
	HCPCS     string
	Modifiers string // space-separated, sorted
	Outcome   string
	Method    string
	From, To  civil.Date
	Source    string
}

// OutreachCodes is the table of outreach codes and what each reports.
// DHCS's Coding Options give G9012 U8 for ECM outreach, successful or
// not; whether U1/U2/U8 with GQ tell in-person from telephonic outreach
// is not verified. A code that tells an outcome or a method apart is
// added here with its dates and source; until then every attempt is Not
// Reported for both, and a code not in the table too.
var OutreachCodes = []OutreachCode{
	{HCPCS: "G9012", Modifiers: "U8", Outcome: NotReported, Method: NotReported, From: 20220101,
		Source: "dhcs-public-specs 1.3 [I]: G9012 U8 is ECM outreach, successful and unsuccessful alike; in-person vs telephonic by U1/U2/U8 and GQ is [R], unverified"},
}

// outreachOf returns what an outreach line reports: its outcome and method.
func outreachOf(s *domain.SentService) (outcome, method string) {
	mods := strings.Join(s.Modifiers, " ")
	for _, o := range OutreachCodes {
		if o.HCPCS == s.HCPCS && o.Modifiers == mods && s.From >= o.From && (o.To == 0 || s.From <= o.To) {
			return o.Outcome, o.Method
		}
	}
	return NotReported, NotReported
}

// Params are what a month's mapping needs besides the state.
type Params struct {
	From, To civil.Date // the reporting month's first and last day
	// PlanCode returns the plan's 3-character code for a county (plan.hcp_codes).
	PlanCode func(county string) (string, bool)
	// POFName and ServiceName spell out a POF id and a coding-table
	// service id (rules/data/pofs.csv, the coding table).
	POFName     map[string]string
	ServiceName map[string]string
	// Periods gives an authorization without an end date the last day of
	// its type's period (rules.AuthorizationLastDay); nil: open.
	Periods *rules.EligibilityTables
}

// Gaps counts what was left out, and why (the side report).
type Gaps map[string]int

func (g Gaps) add(format string, a ...any) { g[fmt.Sprintf(format, a...)]++ }

// Member is the state of one member for the month.
type Member struct {
	CIN      string
	Enrollee *domain.Enrollee // nil when no 834 named the member
	Auths    []domain.Authorization
	Services []domain.SentService // first date of service in the month
}

// Mapper maps a month's members one at a time and keeps the month's
// Community Supports utilization until Utilization.
type Mapper struct {
	p    Params
	Gaps Gaps
	util map[utilKey]*utilAgg
}

// NewMapper returns a mapper for one month.
func NewMapper(p Params) *Mapper {
	return &Mapper{p: p, Gaps: Gaps{}, util: map[utilKey]*utilAgg{}}
}

type utilKey struct{ plan, service, hcpcs, mods string }

type utilAgg struct {
	members       int
	lastCIN       string
	services      int
	units, charge int64
}

func date(d civil.Date) string { return fmt.Sprintf("%08d", uint32(d)) }

func datePtr(d civil.Date) *string {
	if d == 0 {
		return nil
	}
	s := date(d)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func money(c int64) string {
	neg := ""
	if c < 0 {
		neg, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", neg, c/100, c%100)
}

// overlaps reports whether [from, to] (to 0 = open) meets [f, l].
func overlaps(from, to, f, l civil.Date) bool { return from <= l && (to == 0 || to >= f) }

func covers(from, to, d civil.Date) bool { return from <= d && (to == 0 || to >= d) }

// planCodeOf returns the member's plan code in the month: the county of
// the latest eligibility span that meets the month, else the member's.
func (m *Mapper) planCodeOf(mem *Member) (string, bool) {
	county := ""
	if e := mem.Enrollee; e != nil {
		county = e.County
		for _, s := range e.Spans {
			if overlaps(s.From, s.To, m.p.From, m.p.To) && s.County != "" {
				county = s.County
			}
		}
	}
	return m.p.PlanCode(county)
}

var authTypes = map[domain.AuthType]string{
	domain.AuthInitial:         "Initial",
	domain.AuthReauthorization: "Reauthorization",
	domain.AuthStreamlined:     "Streamlined",
	domain.AuthAutoPlanChange:  "Automatic Plan Change",
	domain.AuthJIPrerelease:    "Justice-Involved Pre-Release",
}

var authStatuses = map[domain.AuthStatus]string{
	domain.AuthPending:  "Requested",
	domain.AuthApproved: "Approved",
	domain.AuthDenied:   "Denied",
}

// reported reports whether an authorization belongs to the month's
// authorization data sets: decided (approved or denied) during the month,
// or still without a decision and starting on or before its last day.
func (m *Mapper) reported(a *domain.Authorization) bool {
	if a.Status == domain.AuthPending {
		return a.From <= m.p.To
	}
	return a.Decided >= m.p.From && a.Decided <= m.p.To
}

// Emit receives each record with its data set and identity key (stable
// across the month's files, holding no PHI once hashed by the caller).
type Emit func(dataSet, key string, r Record) error

// Member maps one member's records, data set by data set.
func (m *Mapper) Member(mem *Member, emit Emit) error {
	plan, ok := m.planCodeOf(mem)
	if !ok {
		if len(mem.Auths) > 0 || len(mem.Services) > 0 {
			m.Gaps.add("member left out of every data set: no plan code for the member's county (plan.hcp_codes, plan.default_hcp)")
		}
		return nil
	}
	base := Base{PlanCode: plan}
	f, l := m.p.From, m.p.To
	// ECM in the month: the approved ECM authorization in force longest.
	var ecm *domain.Authorization
	var ecmTo civil.Date
	for i := range mem.Auths {
		a := &mem.Auths[i]
		to := rules.AuthorizationLastDay(a, m.p.Periods)
		if a.Service == ServiceECM && a.Status == domain.AuthApproved && overlaps(a.From, to, f, l) {
			if ecm == nil || to == 0 || ecmTo != 0 && to > ecmTo {
				ecm, ecmTo = a, to
			}
		}
	}
	if ecm != nil {
		if err := m.enrollment(mem, ecm, base, emit); err != nil {
			return err
		}
		// Its populations of focus: those of the approved ECM
		// authorizations in force on a day of the month, each once; an
		// authorization whose policy period ended before the month adds
		// none, as it does not make the member enrolled.
		var pofs []string
		for i := range mem.Auths {
			a := &mem.Auths[i]
			if a.Service == ServiceECM && a.Status == domain.AuthApproved && overlaps(a.From, rules.AuthorizationLastDay(a, m.p.Periods), f, l) &&
				a.POF != "" && !slices.Contains(pofs, a.POF) {
				pofs = append(pofs, a.POF)
			}
		}
		slices.Sort(pofs)
		for _, p := range pofs {
			name, ok := m.p.POFName[p]
			if !ok {
				m.Gaps.add("%s: population of focus %q not in the POF table", DSPOF, p)
				continue
			}
			if err := emit(DSPOF, mem.CIN+"|"+p, &POFRecord{Base: base, CIN: mem.CIN, PopulationOfFocus: name}); err != nil {
				return err
			}
		}
		if ecm.ProviderNPI != "" {
			r := &LeadCareManagerRecord{Base: base, CIN: mem.CIN, ECMProviderNPI: ecm.ProviderNPI, AssignmentDate: date(ecm.From)}
			if err := emit(DSLeadCareManager, mem.CIN, r); err != nil {
				return err
			}
		} else {
			m.Gaps.add("%s: member left out: the ECM authorization names no provider", DSLeadCareManager)
		}
	}
	// A line's key ends with how many lines before it have the same key
	// otherwise: the member's other lines do not move it.
	seen := map[string]int{}
	nth := func(key string) string {
		n := seen[key]
		seen[key]++
		return key + "|" + strconv.Itoa(n)
	}
	for i := range mem.Services {
		s := &mem.Services[i]
		if s.Service == ServiceECM && s.Outreach {
			outcome, method := outreachOf(s)
			r := &OutreachRecord{Base: base, CIN: mem.CIN, ProviderNPI: s.NPI, OutreachDate: date(s.From), ProcedureCode: s.HCPCS,
				Modifiers: nonNil(s.Modifiers), OutreachOutcome: outcome, OutreachMethod: method}
			if err := emit(DSOutreach, nth(fmt.Sprintf("%s|%s|%d|%s|%s", DSOutreach, mem.CIN, s.From, s.NPI, s.HCPCS)), r); err != nil {
				return err
			}
		}
	}
	for i := range mem.Auths {
		a := &mem.Auths[i]
		if a.Service == ServiceTransitionalRent {
			continue
		}
		if a.Status != domain.AuthPending && a.Decided == 0 && a.From >= f && a.From <= l {
			// Approved or denied on a day the feed does not give: no month
			// is the one it was decided in. Told in the month it starts.
			ds := DSCSAuths
			if a.Service == ServiceECM {
				ds = DSECMAuths
			}
			m.Gaps.add("%s: authorization left out: %s without a decision_date (the month it was decided in is unknown)", ds, a.Status)
		}
		if !m.reported(a) {
			continue
		}
		ar, ok := m.authorization(a, base)
		if !ok {
			continue
		}
		if a.Service == ServiceECM {
			var pof *string
			if a.POF != "" {
				if n, ok := m.p.POFName[a.POF]; ok {
					pof = &n
				} else {
					m.Gaps.add("%s: population of focus %q not in the POF table: null", DSECMAuths, a.POF)
				}
			}
			if err := emit(DSECMAuths, a.Number, &ECMAuthorizationRecord{AuthorizationRecord: ar, PopulationOfFocus: pof}); err != nil {
				return err
			}
			continue
		}
		name, ok := m.p.ServiceName[a.Service]
		if !ok {
			m.Gaps.add("%s: authorization left out: service %q is not in the coding table", DSCSAuths, a.Service)
			continue
		}
		if err := emit(DSCSAuths, a.Number, &CSAuthorizationRecord{AuthorizationRecord: ar, CommunitySupport: name}); err != nil {
			return err
		}
	}
	for i := range mem.Services {
		s := &mem.Services[i]
		if s.Service == ServiceECM {
			continue
		}
		name, ok := m.p.ServiceName[s.Service]
		if !ok {
			m.Gaps.add("%s: line left out: service %q is not in the coding table", DSCSServices, s.Service)
			continue
		}
		r := &CSServiceRecord{Base: base, CIN: mem.CIN, CommunitySupport: name, ServiceFromDate: date(s.From), ServiceToDate: date(cmp.Or(s.To, s.From)),
			ProcedureCode: s.HCPCS, Modifiers: nonNil(s.Modifiers), Units: Number(s.Units), BilledAmount: money(int64(s.Charge)), ProviderNPI: s.NPI}
		if err := emit(DSCSServices, nth(fmt.Sprintf("%s|%s|%d|%s|%s|%s", DSCSServices, mem.CIN, s.From, s.HCPCS, strings.Join(s.Modifiers, " "), s.NPI)), r); err != nil {
			return err
		}
		k := utilKey{plan, name, s.HCPCS, strings.Join(s.Modifiers, " ")}
		u := m.util[k]
		if u == nil {
			u = &utilAgg{}
			m.util[k] = u
		}
		if u.lastCIN != mem.CIN {
			u.members++
			u.lastCIN = mem.CIN
		}
		u.services++
		u.units += int64(s.Units)
		u.charge += int64(s.Charge)
	}
	for i := range mem.Auths {
		a := &mem.Auths[i]
		if a.Service != ServiceTransitionalRent || !(m.reported(a) || a.Status == domain.AuthApproved && overlaps(a.From, rules.AuthorizationLastDay(a, m.p.Periods), f, l)) {
			continue
		}
		n, charge := 0, int64(0)
		for j := range mem.Services {
			if s := &mem.Services[j]; s.Service == ServiceTransitionalRent && m.rentAuthorization(mem, s) == a {
				n++
				charge += int64(s.Charge)
			}
		}
		r := &TransitionalRentRecord{Base: base, AuthorizationID: a.Number, CIN: mem.CIN, AuthorizationStatus: authStatuses[a.Status],
			DecisionDate: datePtr(a.Decided), StartDate: date(a.From), EndDate: datePtr(a.To), ServicesReceived: n, BilledAmount: money(charge)}
		if a.Status == domain.AuthPending {
			r.DecisionDate = nil
		}
		if err := emit(DSTransitionalRent, a.Number, r); err != nil {
			return err
		}
	}
	return nil
}

// rentAuthorization returns the authorization a Transitional Rent line is
// paid under: the approved Transitional Rent authorization in force on its
// first date of service, the latest to start when several are (the first
// by number among those), nil when none is. A line counts under that one
// only: never under a denied or pending request, never twice.
func (m *Mapper) rentAuthorization(mem *Member, s *domain.SentService) *domain.Authorization {
	var under *domain.Authorization
	for i := range mem.Auths {
		a := &mem.Auths[i]
		if a.Service == ServiceTransitionalRent && a.Status == domain.AuthApproved && covers(a.From, rules.AuthorizationLastDay(a, m.p.Periods), s.From) &&
			(under == nil || a.From > under.From) {
			under = a
		}
	}
	return under
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// enrollment writes the member's ECM enrollment status: Enrolled when the
// ECM authorization and an eligibility span both cover the month's last
// day, else Disenrolled with the reason.
func (m *Mapper) enrollment(mem *Member, ecm *domain.Authorization, base Base, emit Emit) error {
	if mem.Enrollee == nil {
		m.Gaps.add("%s: member left out: an ECM authorization but no 834 record (eligibility unknown)", DSEnrollment)
		return nil
	}
	f, l := m.p.From, m.p.To
	var eligibleLast bool
	var lastDay civil.Date
	for _, s := range mem.Enrollee.Spans {
		if !overlaps(s.From, s.To, f, l) {
			continue
		}
		if covers(s.From, s.To, l) {
			eligibleLast = true
		}
		end := s.To
		if end == 0 || end > l {
			end = l
		}
		lastDay = max(lastDay, end)
	}
	if lastDay == 0 {
		m.Gaps.add("%s: member left out: an ECM authorization in the month but no eligibility span in it", DSEnrollment)
		return nil
	}
	r := &EnrollmentRecord{Base: base, CIN: mem.CIN, EnrollmentStatus: "Enrolled", ECMStartDate: date(ecm.From), ECMEndDate: datePtr(ecm.To)}
	switch to := rules.AuthorizationLastDay(ecm, m.p.Periods); {
	case !covers(ecm.From, to, l):
		r.EnrollmentStatus, r.DisenrollmentReason = "Disenrolled", strPtr("Authorization Ended")
		r.ECMEndDate = datePtr(to)
	case !eligibleLast:
		r.EnrollmentStatus, r.DisenrollmentReason = "Disenrolled", strPtr("Medi-Cal Eligibility Ended")
		r.ECMEndDate = datePtr(lastDay)
	}
	return emit(DSEnrollment, mem.CIN, r)
}

func (m *Mapper) authorization(a *domain.Authorization, base Base) (AuthorizationRecord, bool) {
	typ, ok := authTypes[a.Type]
	if !ok {
		m.Gaps.add("authorization left out: type %q has no monitoring value", a.Type)
		return AuthorizationRecord{}, false
	}
	st, ok := authStatuses[a.Status]
	if !ok {
		m.Gaps.add("authorization left out: status %q has no monitoring value", a.Status)
		return AuthorizationRecord{}, false
	}
	r := AuthorizationRecord{Base: base, AuthorizationID: a.Number, CIN: a.CIN, AuthorizationType: typ, AuthorizationStatus: st,
		StartDate: date(a.From), EndDate: datePtr(a.To), ProviderNPI: strPtr(a.ProviderNPI)}
	if a.Status != domain.AuthPending {
		r.DecisionDate = datePtr(a.Decided)
	}
	return r, true
}

// Utilization returns the month's Community Supports utilization records,
// by plan code, service and code, with their keys.
func (m *Mapper) Utilization(emit Emit) error {
	keys := make([]utilKey, 0, len(m.util))
	for k := range m.util {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b utilKey) int {
		return cmp.Or(strings.Compare(a.plan, b.plan), strings.Compare(a.service, b.service), strings.Compare(a.hcpcs, b.hcpcs), strings.Compare(a.mods, b.mods))
	})
	for _, k := range keys {
		u := m.util[k]
		mods := []string{}
		if k.mods != "" {
			mods = strings.Fields(k.mods)
		}
		r := &CSUtilizationRecord{Base: Base{PlanCode: k.plan}, CommunitySupport: k.service, ProcedureCode: k.hcpcs, Modifiers: mods,
			MembersServed: u.members, Services: u.services, Units: Number(u.units), BilledAmount: money(u.charge)}
		if err := emit(DSCSUtilization, k.plan+"|"+k.service+"|"+k.hcpcs+"|"+k.mods, r); err != nil {
			return err
		}
	}
	return nil
}

// Networks maps the roster sites in force during the month to the ECM and
// Community Supports provider networks: a site offering ECM (a POF, or the
// ECM provider type) to the first, one offering a Community Support to the
// second, by NPI then site key.
func (m *Mapper) Networks(sites []roster.Site, emit Emit) error {
	sorted := slices.Clone(sites)
	slices.SortFunc(sorted, func(a, b roster.Site) int {
		return cmp.Or(strings.Compare(a.NPI, b.NPI), strings.Compare(a.Key(), b.Key()))
	})
	for _, ds := range []string{DSECMNetwork, DSCSNetwork} {
		for i := range sorted {
			s := &sorted[i]
			plan, ok := m.p.PlanCode(s.County)
			if !ok {
				m.Gaps.add("%s: site left out: no plan code for its county", ds)
				continue
			}
			name := cmp.Or(s.Name, s.Organization)
			if r := []rune(name); len(r) > 100 { // the schema's maxLength counts characters
				name = string(r[:100])
			}
			nr := NetworkRecord{Base: Base{PlanCode: plan}, ProviderNPI: s.NPI, ProviderName: name, County: s.County}
			c := Capacity{CapacityCurrent: capacity(s.CapacityCurrent), CapacityMaximum: capacity(s.CapacityMax), ContractStartDate: date(s.From), ContractEndDate: datePtr(s.To)}
			var r Record
			if ds == DSECMNetwork {
				if len(s.POFs) == 0 {
					continue
				}
				var pofs []string
				for _, p := range s.POFs {
					if n, ok := m.p.POFName[p]; ok && !slices.Contains(pofs, n) {
						pofs = append(pofs, n)
					}
				}
				r = &ECMNetworkRecord{NetworkRecord: nr, PopulationsOfFocus: nonNil(pofs), Capacity: c}
			} else {
				if len(s.CommunitySupports) == 0 {
					continue
				}
				var cs []string
				for _, id := range s.CommunitySupports {
					if n, ok := m.p.ServiceName[id]; ok && !slices.Contains(cs, n) {
						cs = append(cs, n)
					}
				}
				r = &CSNetworkRecord{NetworkRecord: nr, CommunitySupports: nonNil(cs), Capacity: c}
			}
			if err := emit(ds, s.Key(), r); err != nil {
				return err
			}
		}
	}
	return nil
}

func capacity(n int) *int {
	if n < 0 {
		return nil
	}
	return &n
}
