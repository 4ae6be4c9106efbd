// Package adt maps HL7 v2 ADT messages (edi/hl7) to domain.ADTEvent: the
// member's CIN from the PID-3 identifier that the sender's profile names,
// the event's kind and time, the visit (facility, patient class,
// admission type, admit and discharge times, discharge disposition) and the diagnoses. It is pure:
// matching the CIN to the plan's members and storing happen in
// pipelines/adt.
package adt

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
)

// Profile is how one sender writes its messages.
type Profile struct {
	// Name identifies the sender in the store: with a message's MSH-3.1
	// and MSH-4.1 it names the sending system a message is stored once
	// for (domain.SenderKey).
	Name string
	// Facilities are the MSH-4.1 sending facilities the profile is for;
	// none makes it the profile of any sender without one of its own.
	Facilities []string
	// IDType and Authority select the PID-3 (and MRG-1) repetition that
	// holds the member's CIN: its CX.5 identifier type code and CX.4.1
	// assigning authority; an empty one matches anything.
	IDType, Authority string
	// Location is the time zone of times written without an offset.
	Location *time.Location
	// ProcessingIDs are the MSH-11.1 processing IDs taken; a message with
	// another is a problem. None takes any.
	ProcessingIDs []string
}

// DefaultProfile reads the CIN from the PID-3 identifier of type MA (HL7
// table 0203: patient Medicaid number), any authority, times in California.
func DefaultProfile() Profile {
	return Profile{Name: "default", IDType: "MA", Location: california()}
}

var california = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		loc = time.FixedZone("PST", -8*3600)
	}
	return loc
})

// Choose returns the profile for a message: the one that lists its MSH-4.1
// sending facility, else the first that lists none, else DefaultProfile.
func Choose(profiles []Profile, m *hl7.Message) Profile {
	fac := m.Segments[0].Get(4, 1, 1, 1)
	for _, p := range profiles {
		for _, f := range p.Facilities {
			if strings.EqualFold(f, fac) {
				return p
			}
		}
	}
	for _, p := range profiles {
		if len(p.Facilities) == 0 {
			return p
		}
	}
	return DefaultProfile()
}

var kinds = map[string]domain.ADTKind{
	"A01": domain.ADTAdmit, "A02": domain.ADTTransfer, "A03": domain.ADTDischarge,
	"A04": domain.ADTRegister, "A05": domain.ADTPreadmit, "A06": domain.ADTToInpatient,
	"A07": domain.ADTToOutpatient, "A08": domain.ADTUpdate, "A11": domain.ADTCancelAdmit,
	"A12": domain.ADTCancelTransfer, "A13": domain.ADTCancelDischarge, "A40": domain.ADTMerge,
}

// Triggers lists the trigger events Map reads, in order.
var Triggers = []string{"A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11", "A12", "A13", "A40"}

// Cancelled returns the kinds an A11, A12 or A13 cancels (nil for other
// kinds): A11 cancels an admit or a registration, A12 a transfer, A13 a
// discharge.
func Cancelled(k domain.ADTKind) []domain.ADTKind {
	switch k {
	case domain.ADTCancelAdmit:
		return []domain.ADTKind{domain.ADTAdmit, domain.ADTRegister}
	case domain.ADTCancelTransfer:
		return []domain.ADTKind{domain.ADTTransfer}
	case domain.ADTCancelDischarge:
		return []domain.ADTKind{domain.ADTDischarge}
	}
	return nil
}

// Map maps an ADT message. It returns every problem that keeps the message
// from being an event (not ADT, an unknown trigger, a missing PID, bad
// times); an event whose PID-3 has no identifier the profile names is
// returned with an empty CIN and no problem: the caller reports the unknown
// member.
func Map(m *hl7.Message, p Profile) (domain.ADTEvent, []*hl7.Error) {
	var errs []*hl7.Error
	msh := &m.Segments[0]
	bad := func(s *hl7.Segment, f int, format string, a ...any) {
		errs = append(errs, hl7.ErrorAt(m, s, f, fmt.Sprintf(format, a...)))
	}
	loc := p.Location
	if loc == nil {
		loc = DefaultProfile().Location
	}
	ev := domain.ADTEvent{Sender: p.Name, ControlID: m.ControlID(),
		SendingApplication: domain.SendingID(msh.Get(3, 1, 1, 1)), SendingFacility: domain.SendingID(msh.Get(4, 1, 1, 1))}
	if id := msh.Get(11, 1, 1, 1); len(p.ProcessingIDs) > 0 && !slices.Contains(p.ProcessingIDs, id) {
		bad(msh, 11, "processing ID %q is not taken (takes %s)", id, strings.Join(p.ProcessingIDs, ", "))
	}
	code, trigger := m.Type()
	// v2.3.1 and later may carry the trigger in EVN-1 only when MSH-9.2 is
	// empty; MSH-9.2 wins when both are written.
	evn := m.First("EVN")
	if trigger == "" && evn != nil {
		trigger = evn.Get(1, 1, 1, 1)
	}
	ev.Trigger = trigger
	if code != "ADT" {
		bad(msh, 9, "message code %q is not ADT", code)
		return ev, errs
	}
	kind, ok := kinds[trigger]
	if !ok {
		bad(msh, 9, "trigger event %q is not one calgw reads (%s)", trigger, strings.Join(Triggers, ", "))
		return ev, errs
	}
	ev.Kind = kind
	timeOf := func(s *hl7.Segment, f int, what string) time.Time {
		if s == nil {
			return time.Time{}
		}
		v := s.Field(f).Comp(1).String()
		if v == "" || v == `""` {
			return time.Time{}
		}
		t, err := hl7.ParseTime(v, loc)
		if err != nil {
			bad(s, f, "%s: %v", what, err)
		}
		return t
	}
	ev.MessageTime = timeOf(msh, 7, "date/time of message")
	ev.EventTime = timeOf(evn, 2, "recorded date/time")
	if ev.EventTime.IsZero() {
		ev.EventTime = ev.MessageTime
	}
	if ev.EventTime.IsZero() {
		bad(msh, 7, "no event time: neither EVN-2 nor MSH-7")
	}
	pid := m.First("PID")
	if pid == nil {
		bad(msh, 0, "ADT^%s has no PID segment", trigger)
		return ev, errs
	}
	ev.Identifiers = identifiers(pid.Field(3))
	if len(ev.Identifiers) == 0 {
		bad(pid, 3, "patient identifier list is empty")
	}
	ev.CIN = match(ev.Identifiers, p)
	pv1 := m.First("PV1")
	if pv1 != nil {
		ev.PatientClass = value(pv1.Get(2, 1, 1, 1))
		ev.AdmissionType = admissionType(pv1.Get(4, 1, 1, 1))
		ev.Facility = value(pv1.Get(3, 1, 4, 1))
		ev.VisitNumber = value(pv1.Get(19, 1, 1, 1))
		ev.Disposition = value(pv1.Get(36, 1, 1, 1))
		ev.AdmitTime = timeOf(pv1, 44, "admit date/time")
		ev.DischargeTime = timeOf(pv1, 45, "discharge date/time")
	} else if kind != domain.ADTMerge && kind != domain.ADTUpdate {
		bad(msh, 0, "ADT^%s has no PV1 segment", trigger)
	}
	if ev.Facility == "" && evn != nil {
		ev.Facility = value(evn.Get(7, 1, 1, 1))
	}
	if ev.Facility == "" {
		ev.Facility = value(msh.Get(4, 1, 1, 1))
	}
	for _, dg := range m.All("DG1") {
		if dg.Get(3, 1, 1, 1) == `""` {
			continue // HL7's null: the sender says there is no diagnosis here
		}
		d := domain.Diagnosis{Code: dg.Get(3, 1, 1, 1), Text: value(dg.Get(3, 1, 2, 1)), System: value(dg.Get(3, 1, 3, 1)), Type: value(dg.Get(6, 1, 1, 1))}
		if d.Code == "" {
			bad(dg, 3, "diagnosis code is missing")
			continue
		}
		ev.Diagnoses = append(ev.Diagnoses, d)
	}
	if kind == domain.ADTMerge {
		mrg := m.First("MRG")
		if mrg == nil {
			bad(msh, 0, "ADT^A40 has no MRG segment")
			return ev, errs
		}
		// ADT_A39 repeats its patient group (PID, PD1, MRG, PV1); the event
		// is one merge, so a message with more is a problem, not its first
		// merge alone.
		if mrgs := m.All("MRG"); len(mrgs) > 1 {
			bad(mrgs[1], 0, "ADT^A40 has %d patient groups (PID and MRG); calgw reads one merge a message: send each in a message of its own", len(mrgs))
		}
		prior := identifiers(mrg.Field(1))
		ev.PriorCIN = match(prior, p)
		if ev.PriorCIN == "" {
			bad(mrg, 1, "no prior identifier of type %q and authority %q", p.IDType, p.Authority)
		}
	}
	return ev, errs
}

// value is a field's text, with HL7's null ("") read as not sent.
func value(v string) string {
	if v == `""` {
		return ""
	}
	return v
}

// admissionType is PV1-4.1 trimmed and upper-cased; HL7's null ("") is
// not sent.
func admissionType(v string) string {
	return value(strings.ToUpper(strings.TrimSpace(v)))
}

func identifiers(f hl7.Value) []domain.PatientIdentifier {
	var out []domain.PatientIdentifier
	for r := 1; r <= f.Reps(); r++ {
		rep := f.Rep(r)
		id := domain.PatientIdentifier{ID: rep.Comp(1).String(), Authority: rep.Comp(4).Sub(1).String(), Type: rep.Comp(5).String()}
		if id.ID != "" {
			out = append(out, id)
		}
	}
	return out
}

// match returns the first identifier of the profile's type and authority,
// upper-cased and trimmed as CINs are stored; one that is blank or HL7's
// null ("") is skipped.
func match(ids []domain.PatientIdentifier, p Profile) string {
	for _, id := range ids {
		cin := strings.ToUpper(strings.TrimSpace(id.ID))
		if cin == "" || cin == `""` {
			continue
		}
		if (p.IDType == "" || strings.EqualFold(id.Type, p.IDType)) && (p.Authority == "" || strings.EqualFold(id.Authority, p.Authority)) {
			return cin
		}
	}
	return ""
}
