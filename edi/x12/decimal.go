package x12

// maxDecimalDigits bounds the integer digits ParseDecimal takes: an int64
// holds twelve digits with six decimal places to spare.
const maxDecimalDigits = 12

// ParseDecimal reads an X12 decimal number (data type R: an optional minus
// sign, digits with an optional decimal point) as a whole number of
// 10^-places units: "12.5" with places 2 is 1250. At most twelve integer
// digits; fraction digits beyond places must be zeros ("1.250" is 125 at
// two places, "1.255" is refused). It reports false for anything else,
// including an empty value, a lone sign or point, and a second point.
func ParseDecimal(b []byte, places int) (int64, bool) {
	if len(b) == 0 || places < 0 || places > 6 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	var whole, frac int64
	intDigits, fracDigits, point := 0, 0, false
	for _, c := range b {
		switch {
		case c == '.' && !point:
			point = true
		case c < '0' || c > '9':
			return 0, false
		case !point:
			whole = whole*10 + int64(c-'0')
			if intDigits++; intDigits > maxDecimalDigits {
				return 0, false
			}
		case fracDigits == places:
			if c != '0' {
				return 0, false // a fraction finer than places
			}
		default:
			frac = frac*10 + int64(c-'0')
			fracDigits++
		}
	}
	if len(b) == 0 || point && len(b) == 1 {
		return 0, false // no digit: "-", ".", "-."
	}
	scale := int64(1)
	for range places {
		scale *= 10
	}
	for ; fracDigits < places; fracDigits++ {
		frac *= 10
	}
	v := whole*scale + frac
	if neg {
		v = -v
	}
	return v, true
}
