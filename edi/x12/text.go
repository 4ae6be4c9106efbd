package x12

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Text makes free text (names, addresses) safe for an AN element: accents
// are dropped (José → Jose), Latin letters without a decomposition and
// typographic quotes and dashes are spelled in ASCII (Strauß → Strauss,
// Ødegaard → Odegaard, O’Brien → O'Brien), other characters outside
// printable ASCII and the characters commonly used as delimiters
// (* ~ : ^ | \) become spaces, runs of spaces collapse, and the result is
// cut to max characters.
func Text(s string, max int) string {
	if plainText(s) && len(s) <= max {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(s) {
		ascii, spelled := asciiSpelling[r]
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case spelled:
		case r <= ' ' || r > '~' || strings.ContainsRune("*~:^|\\", r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if spelled {
			b.WriteString(ascii)
		} else {
			b.WriteRune(r)
		}
	}
	out := b.String()
	if len(out) > max {
		out = strings.TrimRight(out[:max], " ")
	}
	return out
}

// asciiSpelling spells in ASCII the Latin letters that Unicode does not
// decompose into a letter and marks, and typographic punctuation common in
// names and addresses.
var asciiSpelling = map[rune]string{
	'ß': "ss", 'ẞ': "SS", 'æ': "ae", 'Æ': "AE", 'œ': "oe", 'Œ': "OE", 'ø': "o", 'Ø': "O",
	'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ð': "d", 'Ð': "D", 'þ': "th", 'Þ': "TH",
	'ı': "i", 'ħ': "h", 'Ħ': "H", 'ŀ': "l", 'Ŀ': "L",
	'\u2018': "'", '\u2019': "'", '\u02BC': "'", '\u201C': `"`, '\u201D': `"`,
	'\u2010': "-", '\u2011': "-", '\u2013': "-", '\u2014': "-",
}

// PlainID reports whether s can go in an ID element (a reference such as
// REF02) as it is: printable ASCII without the characters commonly used
// as delimiters (* ~ : ^ | \).
func PlainID(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || strings.IndexByte("*~:^|\\", c) >= 0 {
			return false
		}
	}
	return true
}

// plainText reports whether Text would return s unchanged: printable ASCII
// without delimiter-like characters, no leading, trailing or doubled spaces.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c > '~' || c == '*' || c == '~' || c == ':' || c == '^' || c == '|' || c == '\\' {
			return false
		}
		if c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// Digits keeps only the ASCII digits of s ("(916) 555-0100" → "9165550100").
func Digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
