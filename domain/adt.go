package domain

import (
	"strings"
	"time"
)

// ADTKind is what an ADT event says happened, by its trigger event.
type ADTKind string

// ADT kinds.
const (
	ADTAdmit           ADTKind = "admit"            // A01
	ADTTransfer        ADTKind = "transfer"         // A02
	ADTDischarge       ADTKind = "discharge"        // A03
	ADTRegister        ADTKind = "register"         // A04 (outpatient or emergency visit)
	ADTPreadmit        ADTKind = "preadmit"         // A05
	ADTToInpatient     ADTKind = "to-inpatient"     // A06
	ADTToOutpatient    ADTKind = "to-outpatient"    // A07
	ADTUpdate          ADTKind = "update"           // A08
	ADTCancelAdmit     ADTKind = "cancel-admit"     // A11
	ADTCancelTransfer  ADTKind = "cancel-transfer"  // A12
	ADTCancelDischarge ADTKind = "cancel-discharge" // A13
	ADTMerge           ADTKind = "merge"            // A40
)

// PatientIdentifier is one PID-3 (or MRG-1) repetition.
type PatientIdentifier struct {
	ID        string // CX.1
	Authority string // CX.4.1 assigning authority
	Type      string // CX.5 identifier type code (MA, MR, ...)
}

// Diagnosis is one DG1 segment.
type Diagnosis struct {
	Code   string // DG1-3.1
	Text   string // DG1-3.2
	System string // DG1-3.3 (I10, I9, ...)
	Type   string // DG1-6 (A admitting, W working, F final)
}

// ADTEvent is one ADT message, mapped.
type ADTEvent struct {
	Sender    string // the sender profile's name
	ControlID string // MSH-10
	Trigger   string // MSH-9.2 (A01 ...)
	Kind      ADTKind

	// SendingApplication and SendingFacility are MSH-3.1 and MSH-4.1 as
	// SendingID reads them: with Sender they name the sending system
	// (SenderKey).
	SendingApplication, SendingFacility string

	// CIN is the Medi-Cal CIN of the PID-3 identifier the sender's profile
	// names ("" when none matches).
	CIN         string
	Identifiers []PatientIdentifier
	// EventTime is EVN-2, else MSH-7.
	EventTime    time.Time
	MessageTime  time.Time // MSH-7
	Facility     string    // PV1-3.4, else EVN-7, else MSH-4
	PatientClass string    // PV1-2 (E, I, O, P, R, B, ...)
	// AdmissionType is PV1-4.1, trimmed and upper-cased (HL7 table 0007:
	// A accident, C elective, E emergency, L labor and delivery, N
	// newborn, R routine, U urgent); "" when not sent.
	AdmissionType string
	VisitNumber   string // PV1-19.1
	// AdmitTime (PV1-44) and DischargeTime (PV1-45) are zero when absent.
	AdmitTime, DischargeTime time.Time
	Disposition              string // PV1-36 discharge disposition
	Diagnoses                []Diagnosis
	// PriorCIN is, for a merge (A40), the CIN of MRG-1 that merges into CIN.
	PriorCIN string
}

// SendingID reads an MSH-3.1 sending application or MSH-4.1 sending
// facility as SenderKey keys it: surrounding spaces and tabs trimmed, HL7's
// null ("") read as empty, case kept.
func SendingID(v string) string {
	v = strings.Trim(v, " \t")
	if v == `""` {
		return ""
	}
	return v
}

// SenderKey is the key a message is stored once under: its sending system
// (the sender profile, MSH-3.1 sending application, MSH-4.1 sending
// facility) and its MSH-10 message control ID. Two facilities sharing a
// profile may use the same MSH-10; their messages get different keys.
//
// The application and facility are read by SendingID; the profile and the
// MSH-10 are kept exactly as given. Case is kept on purpose: a resend
// repeats its message's bytes, so a key that folds nothing can at worst
// keep a message twice whose sender rewrote its own name between sends,
// while a key that folds too much drops another system's message.
// The four parts are joined by "|", a "\" or "|" inside a part written
// "\\" or "\|", so different parts never make the same key.
func SenderKey(profile, application, facility, controlID string) string {
	var b strings.Builder
	b.Grow(len(profile) + len(application) + len(facility) + len(controlID) + 3)
	for i, part := range [4]string{profile, SendingID(application), SendingID(facility), controlID} {
		if i > 0 {
			b.WriteByte('|')
		}
		if !strings.ContainsAny(part, "\\|") {
			b.WriteString(part)
			continue
		}
		for j := 0; j < len(part); j++ {
			if c := part[j]; c == '\\' || c == '|' {
				b.WriteByte('\\')
			}
			b.WriteByte(part[j])
		}
	}
	return b.String()
}
