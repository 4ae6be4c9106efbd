package snip

// Classify names the edit of a validator finding from its acknowledgment
// level ("interchange", "group", "transaction", "segment", "element"), its
// code (TA105, AK905, IK502, IK304 or IK403), the segment, element and
// component (0 for a simple element) it is on. X12 syntax codes are level
// 1; the implementation ("I") codes are level 2, except the dependency codes, which are the guide's situational rules
// (level 4); CLM02 not matching the lines is level 3; LX01 out of sequence
// is level 2; an invalid code in an element whose values are an external
// code set (place of service: CLM05-1 and SV105; state: N402) is level 5.
func Classify(level, code, segment string, element, component int) string {
	switch level {
	case "interchange", "group", "transaction":
		return SyntaxEnvelope
	case "segment":
		switch code {
		case "I6", "I9":
			return SituationalSet
		case "I4", "I7", "I8":
			return GuideSegment
		}
		return SyntaxSegment
	}
	switch {
	case code == "7" && (segment == "CLM" && element == 5 && component <= 1 || segment == "SV1" && element == 5):
		return CodePOS // the guide's external code list 237
	case code == "7" && segment == "N4" && element == 2:
		return CodeState // the guide's external code list 22
	case segment == "CLM" && element == 2 && code == "I12":
		return BalanceClaimTotal
	case segment == "LX" && element == 1 && code == "I12":
		return GuideLineNumber
	}
	switch code {
	case "2", "10", "I9":
		return SituationalSet
	}
	if len(code) > 0 && code[0] == 'I' {
		return GuideElement
	}
	return SyntaxElement
}
