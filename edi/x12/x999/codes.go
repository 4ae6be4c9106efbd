package x999

// segmentErrors are the IK304 codes (X12 data element 620) in words.
var segmentErrors = map[string]string{
	"1": "unrecognized segment ID", "2": "unexpected segment", "3": "required segment missing",
	"4": "loop occurs over maximum times", "5": "segment exceeds maximum use", "6": "segment not in defined transaction set",
	"7": "segment not in proper sequence", "8": "segment has data element errors",
	"I4": `implementation "not used" segment present`, "I6": "implementation dependent segment missing",
	"I7": "implementation loop occurs under minimum times", "I8": "implementation segment below minimum use",
	"I9": `implementation dependent "not used" segment present`,
}

// elementErrors are the IK403 codes (X12 data element 621) in words.
var elementErrors = map[string]string{
	"1": "required data element missing", "2": "conditional required data element missing", "3": "too many data elements",
	"4": "data element too short", "5": "data element too long", "6": "invalid character in data element",
	"7": "invalid code value", "8": "invalid date", "9": "invalid time", "10": "exclusion condition violated",
	"12": "too many repetitions", "13": "too many components", "I6": "code value not used in implementation",
	"I9": "implementation dependent data element missing", "I10": `implementation "not used" data element present`,
	"I11": "implementation too few repetitions", "I12": "implementation pattern match failure",
	"I13": `implementation dependent "not used" data element present`,
}

// setErrors are the IK502..IK506 codes (X12 data element 718) in words.
var setErrors = map[string]string{
	"1": "transaction set not supported", "2": "transaction set trailer missing",
	"3": "control number in header and trailer do not match", "4": "number of included segments does not match actual count",
	"5": "one or more segments in error", "6": "missing or invalid transaction set identifier",
	"7": "missing or invalid transaction set control number", "18": "transaction set not in functional group",
	"19": "invalid transaction set implementation convention reference", "23": "control number not unique within the functional group",
	"I5": "implementation one or more segments in error", "I6": "implementation convention not supported",
}

// words returns code followed by its meaning in table, when known.
func words(table map[string]string, code string) string {
	if w, ok := table[code]; ok {
		return code + " (" + w + ")"
	}
	return code
}

// SetErrorText puts an IK5 error code in words, e.g. "5 (one or more
// segments in error)".
func SetErrorText(code string) string { return words(setErrors, code) }
