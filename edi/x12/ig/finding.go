package ig

import (
	"fmt"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// Level says which acknowledgment element a Finding's Code belongs to.
type Level uint8

// Finding levels, from the envelope down to a component.
const (
	LevelInterchange Level = iota + 1 // TA1: Code is a TA105 interchange note code ("001"…"031")
	LevelGroup                        // 999 AK9: Code is an AK905 functional group syntax error code
	LevelTransaction                  // 999 IK5: Code is an IK502 transaction set syntax error code
	LevelSegment                      // 999 IK3: Code is an IK304 segment syntax error code
	LevelElement                      // 999 IK4: Code is an IK403 data element syntax error code
)

func (l Level) String() string {
	switch l {
	case LevelInterchange:
		return "interchange"
	case LevelGroup:
		return "group"
	case LevelTransaction:
		return "transaction"
	case LevelSegment:
		return "segment"
	case LevelElement:
		return "element"
	}
	return fmt.Sprintf("Level(%d)", uint8(l))
}

// Severity says whether a Finding rejects its transaction set.
type Severity uint8

const (
	Error   Severity = iota // rejects the transaction set, group or interchange
	Warning                 // noted: the set is "accepted with errors" (IK501/AK901 E)
)

// Pos is where a Finding is: the segment in the input and its place in the
// transaction set.
type Pos struct {
	Ordinal int64  // 1-based number of the segment in the input
	Offset  int64  // byte offset of the segment in the input
	Line    int64  // 1-based line of the segment
	SetPos  int    // position in the transaction set, ST = 1 (IK302); 0 outside a set
	Loop    string // IG loop ID, e.g. "2010BA" (IK303); "" outside loops
	Segment string // segment ID (IK301)
}

// A Finding is one problem with its position and acknowledgment code. For a
// missing segment, Segment names the missing segment and the position is
// that of the segment at which it was found missing.
//
// Msg never contains data values. Value holds the offending value where
// there is one; it may be member data (PHI): never log it. It exists to
// build IK404 (copy of bad data element) for the sender of the data.
type Finding struct {
	Pos
	Level      Level
	Code       string // the code for Level's element, e.g. "8" (IK304) or "I12" (IK403)
	Severity   Severity
	Element    int    // 1-based element position (IK401-1); 0 for segment and envelope findings
	Component  int    // 1-based component position (IK401-2); 0 when not a component
	Repetition int    // 1-based repetition (IK401-3); 0 when the element does not repeat
	ElementRef string // data element reference number (IK402), e.g. "1065"
	Msg        string // human message, no data values
	Value      string // offending value: may be PHI, never log it
	// Unit names the business unit the segment is in, for the 999's CTX
	// (2100 Business Unit Identifier): UnitName is CTX01-1 (e.g. "CLM01"),
	// UnitRef CTX01-2 (the unit's identifier as sent); "" when the finding
	// is in none or its identifier is not known. The validator leaves it
	// empty; a check of a transaction set's business units fills it.
	UnitName, UnitRef string
}

// String formats the finding for people: position, place and message,
// never the value.
func (f *Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "segment %d (line %d, byte %d)", f.Ordinal, f.Line, f.Offset)
	if f.Loop != "" {
		fmt.Fprintf(&b, " loop %s", f.Loop)
	}
	if f.Segment != "" {
		b.WriteString(" ")
		if f.Element > 0 {
			b.WriteString(label(f.Segment, f.Element, f.Component))
			if f.Repetition > 1 {
				fmt.Fprintf(&b, " repetition %d", f.Repetition)
			}
		} else {
			b.WriteString(f.Segment)
		}
	}
	fmt.Fprintf(&b, ": %s [%s %s]", f.Msg, f.Level.codeName(), f.Code)
	if f.Severity == Warning {
		b.WriteString(" (warning)")
	}
	return b.String()
}

func (l Level) codeName() string {
	switch l {
	case LevelInterchange:
		return "TA105"
	case LevelGroup:
		return "AK905"
	case LevelTransaction:
		return "IK502"
	case LevelSegment:
		return "IK304"
	case LevelElement:
		return "IK403"
	}
	return "?"
}

// IK304 segment syntax error codes (X12 data element 620, 999 005010X231A1).
const (
	SegUnrecognized            = "1"  // Unrecognized segment ID
	SegUnexpected              = "2"  // Unexpected segment
	SegRequiredMissing         = "3"  // Required segment missing
	SegLoopOverMax             = "4"  // Loop occurs over maximum times
	SegOverMaxUse              = "5"  // Segment exceeds maximum use
	SegNotInSet                = "6"  // Segment not in defined transaction set
	SegOutOfSequence           = "7"  // Segment not in proper sequence
	SegHasElementErrors        = "8"  // Segment has data element errors
	SegNotUsedPresent          = "I4" // Implementation "not used" segment present
	SegDependentMissing        = "I6" // Implementation dependent segment missing
	SegLoopUnderMin            = "I7" // Implementation loop occurs under minimum times
	SegUnderMinUse             = "I8" // Implementation segment below minimum use
	SegDependentNotUsedPresent = "I9" // Implementation dependent "not used" segment present
)

// IK403 data element syntax error codes (X12 data element 621).
const (
	ElemRequiredMissing         = "1"   // Required data element missing
	ElemConditionalMissing      = "2"   // Conditional required data element missing
	ElemTooMany                 = "3"   // Too many data elements
	ElemTooShort                = "4"   // Data element too short
	ElemTooLong                 = "5"   // Data element too long
	ElemInvalidChar             = "6"   // Invalid character in data element
	ElemInvalidCode             = "7"   // Invalid code value
	ElemInvalidDate             = "8"   // Invalid date
	ElemInvalidTime             = "9"   // Invalid time
	ElemExclusionViolated       = "10"  // Exclusion condition violated
	ElemTooManyRepetitions      = "12"  // Too many repetitions
	ElemTooManyComponents       = "13"  // Too many components
	ElemCodeNotUsed             = "I6"  // Code value not used in implementation
	ElemDependentMissing        = "I9"  // Implementation dependent data element missing
	ElemNotUsedPresent          = "I10" // Implementation "not used" data element present
	ElemTooFewRepetitions       = "I11" // Implementation too few repetitions
	ElemPatternMismatch         = "I12" // Implementation pattern match failure
	ElemDependentNotUsedPresent = "I13" // Implementation dependent "not used" data element present
)

// IK502 transaction set syntax error codes (X12 data element 718).
const (
	SetNotSupported          = "1"  // Transaction set not supported
	SetTrailerMissing        = "2"  // Transaction set trailer missing
	SetControlMismatch       = "3"  // Control number in header and trailer do not match
	SetCountMismatch         = "4"  // Number of included segments does not match actual count
	SetSegmentErrors         = "5"  // One or more segments in error
	SetBadID                 = "6"  // Missing or invalid transaction set identifier
	SetBadControl            = "7"  // Missing or invalid transaction set control number
	SetNotInGroup            = "18" // Transaction set not in functional group
	SetBadReference          = "19" // Invalid transaction set implementation convention reference
	SetControlNotUnique      = "23" // Control number not unique within the functional group
	SetImplementationErrors  = "I5" // Implementation one or more segments in error
	SetConventionUnsupported = "I6" // Implementation convention not supported
)

// AK905 functional group syntax error codes (X12 data element 716).
const (
	GroupNotSupported        = "1"  // Functional group not supported
	GroupVersionNotSupported = "2"  // Functional group version not supported
	GroupTrailerMissing      = "3"  // Functional group trailer missing
	GroupControlMismatch     = "4"  // Group control number in header and trailer do not agree
	GroupCountMismatch       = "5"  // Number of included transaction sets does not match actual count
	GroupControlSyntax       = "6"  // Group control number violates syntax
	GroupControlNotUnique    = "19" // Functional group control number not unique within interchange
)

// TA105 interchange note codes (X12 data element I18).
const (
	NoteNone                 = "000" // No error
	NoteControlMismatch      = "001" // Interchange control number in header and trailer do not match
	NoteStandardUnsupported  = "002" // Standard in ISA11 not supported
	NoteVersionUnsupported   = "003" // Version of the controls not supported
	NoteBadTerminator        = "004" // Segment terminator is invalid
	NoteBadSenderQualifier   = "005" // Invalid interchange ID qualifier for sender
	NoteBadSenderID          = "006" // Invalid interchange sender ID
	NoteBadReceiverQualifier = "007" // Invalid interchange ID qualifier for receiver
	NoteBadReceiverID        = "008" // Invalid interchange receiver ID
	NoteBadAuthQualifier     = "010" // Invalid authorization information qualifier value
	NoteBadAuthInfo          = "011" // Invalid authorization information value
	NoteBadSecurityQualifier = "012" // Invalid security information qualifier value
	NoteBadSecurityInfo      = "013" // Invalid security information value
	NoteBadDate              = "014" // Invalid interchange date value
	NoteBadTime              = "015" // Invalid interchange time value
	NoteBadStandardID        = "016" // Invalid interchange standards identifier value
	NoteBadVersion           = "017" // Invalid interchange version ID value
	NoteBadControlNumber     = "018" // Invalid interchange control number value
	NoteBadAckRequested      = "019" // Invalid acknowledgment requested value
	NoteBadTestIndicator     = "020" // Invalid test indicator value
	NoteBadGroupCount        = "021" // Invalid number of included groups value
	NoteBadStructure         = "022" // Invalid control structure
	NotePrematureEnd         = "023" // Improper (premature) end-of-file
	NoteBadContent           = "024" // Invalid interchange content (e.g. invalid GS segment)
	NoteDuplicateControl     = "025" // Duplicate interchange control number
	NoteBadElementSeparator  = "026" // Invalid data element separator
	NoteBadComponentSep      = "027" // Invalid component element separator
)

// Status is an acknowledgment code: IK501 for a transaction set, AK901 for
// a group, TA104 for an interchange.
type Status byte

const (
	Accepted           Status = 'A' // accepted
	AcceptedWithErrors Status = 'E' // accepted, but errors were noted (warnings only)
	PartiallyAccepted  Status = 'P' // group: at least one transaction set rejected
	Rejected           Status = 'R' // rejected
)

func (s Status) String() string {
	switch s {
	case Accepted:
		return "accepted"
	case AcceptedWithErrors:
		return "accepted with errors"
	case PartiallyAccepted:
		return "partially accepted"
	case Rejected:
		return "rejected"
	}
	return fmt.Sprintf("Status(%q)", byte(s))
}

// InterchangeInfo holds the ISA values (fixed-width fields trimmed).
type InterchangeInfo struct {
	AuthQualifier     string // ISA01
	SenderQualifier   string // ISA05
	SenderID          string // ISA06
	ReceiverQualifier string // ISA07
	ReceiverID        string // ISA08
	Date              string // ISA09, YYMMDD
	Time              string // ISA10, HHMM
	Version           string // ISA12
	Control           string // ISA13
	AckRequested      bool   // ISA14 = "1"
	Usage             string // ISA15, "P" or "T"
	Pos               Pos    // the ISA segment
	// Delimiters are the interchange's own separators (its ISA).
	Delimiters x12.Delimiters
}

// InterchangeResult is the outcome of one interchange (ISA to IEA), what a
// TA1 reports.
type InterchangeResult struct {
	InterchangeInfo
	Status   Status    // TA104: A, E or R
	Note     string    // TA105: the first interchange note code, "000" when none
	Groups   int       // functional groups received
	Findings []Finding // interchange-level findings; valid only during the callback
}

// GroupInfo holds the GS values.
type GroupInfo struct {
	FunctionalID string // GS01
	SenderCode   string // GS02
	ReceiverCode string // GS03
	Date         string // GS04
	Time         string // GS05
	Control      string // GS06
	Version      string // GS08
	Pos          Pos    // the GS segment
}

// GroupResult is the outcome of one functional group, what 999 AK1 and AK9
// report.
type GroupResult struct {
	GroupInfo
	Status   Status    // AK901
	Codes    []string  // AK905..AK909, at most five
	Included int       // AK902: GE01, or the received count when GE is missing or bad
	Received int       // AK903: transaction sets received
	Accepted int       // AK904: transaction sets accepted (with or without errors)
	Findings []Finding // group-level findings; valid only during the callback
}

// TransactionResult is the outcome of one transaction set, what a 999 AK2
// loop reports.
type TransactionResult struct {
	Group     *GroupInfo // the enclosing group
	SetID     string     // ST01
	Control   string     // ST02
	Reference string     // ST03
	Spec      *Spec      // the table it was validated with; nil when not supported
	Status    Status     // IK501: A, E or R
	Codes     []string   // IK502..IK506, at most five
	Segments  int        // segments from ST to SE
	Pos       Pos        // the ST segment
	// Findings are the transaction-, segment- and element-level findings in
	// input order, at most Options.MaxFindings; Dropped counts the rest. The
	// slice is reused: it is valid only during the callback.
	Findings []Finding
	Dropped  int
}

// Summary counts what Validate saw.
type Summary struct {
	Bytes        int64 // bytes read
	Segments     int64
	Interchanges int
	Groups       int
	Transactions int
	TA1s         int // TA1 segments: interchange acknowledgments, outside any group
	Accepted     int // transaction sets accepted without errors
	WithErrors   int // transaction sets accepted with errors (warnings)
	Rejected     int // transaction sets rejected
	Findings     int // all findings, every level
	Errors       int // findings of severity Error
	// Parts is how many parts ValidateAt validated the input in, side by
	// side (0 or 1: in one pass).
	Parts int
}

// OK reports whether the input had no error findings.
func (s Summary) OK() bool { return s.Errors == 0 }
