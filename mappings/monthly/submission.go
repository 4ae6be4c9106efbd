package monthly

// Record types (DHCS house style: MCPD's recordType). "Resubmission and
// Void records will be rejected if there is not a previously accepted
// Submission with an ID that matches the Parent ID" (MCPD schema text):
// a Resubmission or a Void names the record DHCS accepted.
const (
	TypeOriginal     = "Original"
	TypeResubmission = "Resubmission"
	TypeVoid         = "Void"
)

// Response statuses of a record sent (store.RecordAccepted, RecordRejected).
const (
	StatusAccepted = "Accepted"
	StatusRejected = "Rejected"
)

// Sent is one record of an identity (data set and key) as a month's
// earlier file sent it, with the status DHCS's response gave it.
type Sent struct {
	RecordID    string
	RecordType  string
	Status      string // "" (no response), Accepted or Rejected
	ContentHash string
	CIN         string
	Body        []byte // the record from planCode on
}

// Standing returns the record DHCS holds for an identity, given every
// record sent for it in version order (Next, record by record).
func Standing(sent []Sent) (Sent, bool) {
	var held Sent
	ok := false
	for _, s := range sent {
		held, ok = Next(held, ok, s)
	}
	return held, ok
}

// Next returns the record DHCS holds for an identity once it answered one
// more record sent for it, given what it held before (ok false: nothing):
// an accepted Original or Resubmission is held; a Void DHCS accepted
// withdraws what was held; a rejected or unanswered record (an Original,
// a Resubmission or a Void) changes nothing DHCS holds.
func Next(held Sent, ok bool, s Sent) (Sent, bool) {
	if s.Status != StatusAccepted {
		return held, ok
	}
	if s.RecordType == TypeVoid {
		return Sent{}, false
	}
	return s, true
}

// Decision is what a month's resubmission does with one identity.
type Decision struct {
	Send       bool   // false: DHCS holds the record as it is, not sent again
	RecordType string // Original, Resubmission or Void
	Parent     string // the standing record a Resubmission or Void names
}

// Decide says what a resubmission sends for an identity: present tells
// whether the state still gives the record, content its content hash, and
// standing what DHCS holds (Standing). A record DHCS does not hold goes as
// an Original; one it holds unchanged is not sent; one it holds that
// changed goes as a Resubmission of it; one it holds that the state no
// longer gives goes as a Void of it. Nothing held and nothing present:
// nothing sent.
func Decide(standing *Sent, present bool, content string) Decision {
	switch {
	case standing == nil && present:
		return Decision{Send: true, RecordType: TypeOriginal}
	case standing == nil:
		return Decision{}
	case !present:
		return Decision{Send: true, RecordType: TypeVoid, Parent: standing.RecordID}
	case standing.ContentHash == content:
		return Decision{}
	}
	return Decision{Send: true, RecordType: TypeResubmission, Parent: standing.RecordID}
}
