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
	// to no one else.
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
// distinct, of the approved ECM authorizations in force on day (From <= day
// and, when it has an end, day <= To). An authorization naming no provider
// addresses no one.
func ADTNoticeProviders(auths []domain.Authorization, day civil.Date) []string {
	var out []string
	for i := range auths {
		a := &auths[i]
		if a.Service != "ECM" || a.Status != domain.AuthApproved || a.ProviderNPI == "" {
			continue
		}
		if day < a.From || a.To != 0 && day > a.To {
			continue
		}
		if !slices.Contains(out, a.ProviderNPI) {
			out = append(out, a.ProviderNPI)
		}
	}
	slices.Sort(out)
	return out
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
