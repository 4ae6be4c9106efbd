package rules

import "github.com/calaim-gateway/calaim-gateway/internal/civil"

// MemberLoop is what one 834 member loop (2000) says about the member, as
// mappings/enrollment reads it: the values the ENR-MEMBER-INVALID checks of
// CheckMemberLoop decide on.
type MemberLoop struct {
	FullFile        bool       // BGN08 "4" (or a full-file header): spans are replaced, not changed
	MaintenanceType string     // INS03
	Subscriber      bool       // INS01 = Y
	RefCIN          string     // REF*1L, the CIN on a DHCS 834
	NameID          string     // 2100A NM109 with qualifier ZZ
	SubscriberID    string     // REF*0F
	Named           bool       // a 2100A NM1*IL with a last name
	CoverageLoops   int        // 2300 loops
	TerminationEnd  civil.Date // DTP*357, zero when absent
}

// MemberFinding is one reason an 834 member loop is skipped (ENR-MEMBER-INVALID):
// the element it is about and what is wrong.
type MemberFinding struct {
	Element string
	Message string
}

// MaintenanceTypeValid reports whether INS03 is one of the member maintenance
// types the gateway loads (001 change, 021 addition, 024 termination, 025
// reinstatement, 030 audit); any other code makes the loop ENR-MEMBER-INVALID.
func MaintenanceTypeValid(code string) bool {
	switch code {
	case "001", "021", "024", "025", "030":
		return true
	}
	return false
}

// MemberCIN returns the member's own ID in a loop: REF*1L (DHCS: the CIN),
// else NM109 (qualifier ZZ), else the subscriber ID of a subscriber. A
// dependent's REF*0F names the subscriber, never the dependent.
func MemberCIN(l MemberLoop) string {
	switch {
	case l.RefCIN != "":
		return l.RefCIN
	case l.NameID != "":
		return l.NameID
	case l.Subscriber:
		return l.SubscriberID
	}
	return ""
}

// CheckMemberLoop decides ENR-MEMBER-INVALID for what a member loop says as
// a whole, once it has ended: cin is its ID as MemberCIN chose it (trimmed,
// upper case); validCIN tests the configured CIN shape (nil: any), named
// shape for the message. It returns the findings in a fixed order, and
// whether the loop ends the member's spans at DTP*357 (a termination
// without coverage loops but with an end date, in a change or a full file;
// in a full file, one without an end date leaves the member's spans to the
// file's period).
func CheckMemberLoop(l MemberLoop, cin string, validCIN func(string) bool, shape string) (findings []MemberFinding, endAt357 bool) {
	if l.RefCIN != "" && l.NameID != "" && l.NameID != l.RefCIN {
		findings = append(findings, MemberFinding{"NM109", "the member identifier differs from REF*1L: the loop names two members"})
	}
	switch {
	case cin == "":
		findings = append(findings, MemberFinding{"REF*1L", "no member CIN: REF*1L, NM109 (qualifier ZZ) or, for a subscriber, REF*0F"})
	case validCIN != nil && !validCIN(cin):
		findings = append(findings, MemberFinding{"REF*1L", "the CIN does not have the shape of a Medi-Cal CIN (" + shape + ")"})
	}
	if !l.Named {
		findings = append(findings, MemberFinding{"NM1", "no member name loop (2100A NM1*IL)"})
	}
	if l.MaintenanceType == "024" && l.CoverageLoops == 0 {
		switch {
		case l.TerminationEnd != 0:
			endAt357 = true
		case !l.FullFile:
			findings = append(findings, MemberFinding{"INS03", "member termination (024) without an end date (DTP*357) or coverage loops"})
		}
	}
	return findings, endAt357
}
