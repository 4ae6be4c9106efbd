package rules

import (
	"slices"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// ADT notice rule IDs.
const (
	// ADTNoticeProvider: an ADT event of a member goes to the ECM provider
	// of each approved ECM authorization in force on the event's date, and
	// to no one else; a cancel (ADTCancelKinds) goes to the providers
	// notified of the event it cancelled, and to no one else.
	ADTNoticeProvider = "ADT-NOTICE-ECM-PROVIDER"
	// ADTNoticeLate: a notice written, or delivered, 24 hours or more after
	// its event was received, or written by the daemon and not delivered
	// 24 hours after, is late (it is still sent).
	ADTNoticeLate = "ADT-NOTICE-LATE"
)

// ADTNoticeWithin is how soon after an ADT event its notice is due (ECM
// policy guide L1902: ADT to ECM providers within 24 hours).
const ADTNoticeWithin = 24 * time.Hour

// ADTNoticeProviders decides ADTNoticeProvider: the NPIs, sorted and
// distinct, of the approved ECM authorizations in force on day
// (ECMAuthorizationInForce). An authorization naming no provider addresses
// no one.
func ADTNoticeProviders(auths []domain.Authorization, day civil.Date, data *EligibilityTables) []string {
	var out []string
	for i := range auths {
		a := &auths[i]
		if a.ProviderNPI == "" || !ECMAuthorizationInForce(a, day, data) {
			continue
		}
		if !slices.Contains(out, a.ProviderNPI) {
			out = append(out, a.ProviderNPI)
		}
	}
	slices.Sort(out)
	return out
}

// HasECMAuthorization reports whether one of auths is an approved ECM
// authorization in force on day (ECMAuthorizationInForce), naming a
// provider or not.
func HasECMAuthorization(auths []domain.Authorization, day civil.Date, data *EligibilityTables) bool {
	for i := range auths {
		if ECMAuthorizationInForce(&auths[i], day, data) {
			return true
		}
	}
	return false
}

// ECMAuthorizationInForce reports whether a is an approved ECM
// authorization in force on day: From <= day <= its last day. The last day
// is To; with data, an authorization without To ends with the period of
// its type in force on its start (auth_periods.csv, as AUTH-PERIOD-POLICY
// reads it; open when none is), and a streamlined one ends with its window
// at the latest. Without data an authorization without To is open.
func ECMAuthorizationInForce(a *domain.Authorization, day civil.Date, data *EligibilityTables) bool {
	if a.Service != "ECM" || a.Status != domain.AuthApproved || day < a.From {
		return false
	}
	to := AuthorizationLastDay(a, data)
	return to == 0 || day <= to
}

// AuthorizationLastDay is a's last day (0: open): To; with data, an
// authorization without To ends with the period of its type in force on
// its start (auth_periods.csv; open when none is), and a streamlined one
// ends with its window at the latest.
func AuthorizationLastDay(a *domain.Authorization, data *EligibilityTables) civil.Date {
	to := a.To
	if data != nil {
		if p, ok := data.Period(a.Service, a.Type, a.From); ok && (to == 0 || a.Type == domain.AuthStreamlined && to > p.Last(a.From)) {
			to = p.Last(a.From)
		}
	}
	return to
}

// IsADTNoticeLate decides ADTNoticeLate.
func IsADTNoticeLate(received, written time.Time) bool {
	return written.Sub(received) >= ADTNoticeWithin
}

// ADTNoticeKinds are the event kinds that are notified: admissions,
// discharges, transfers, registrations, class changes and their cancels
// (an A08 update or an A40 merge is not an event of care).
var ADTNoticeKinds = []domain.ADTKind{domain.ADTAdmit, domain.ADTTransfer, domain.ADTDischarge, domain.ADTRegister,
	domain.ADTPreadmit, domain.ADTToInpatient, domain.ADTToOutpatient, domain.ADTCancelAdmit, domain.ADTCancelTransfer, domain.ADTCancelDischarge}

// ADTCancelKinds are the notified kinds that cancel an earlier event (A11,
// A12, A13). A cancel's notice goes to the providers notified of the event
// it cancelled, who hold that event (ADTNoticeProvider), whatever
// authorizations are in force on the cancel's own date: to no one when it
// cancelled no event or its event was never notified.
var ADTCancelKinds = []domain.ADTKind{domain.ADTCancelAdmit, domain.ADTCancelTransfer, domain.ADTCancelDischarge}
