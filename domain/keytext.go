package domain

import (
	"strings"
	"unicode/utf8"
)

// KeyText writes a header value received as bytes (MSH-3, MSH-4, MSH-10 of
// a message in Latin-1 or another 8-bit charset) as text that fits a text
// column of either engine (valid UTF-8, no NUL) without merging different
// values: each byte that is not part of valid UTF-8, and NUL, is written
// `\xHH` (two capital hex digits), and a backslash that begins such a
// sequence in the value itself is written `\x5C`. Every other value, which
// is every value of valid UTF-8 without NUL or `\xHH`, is returned as it
// is. Different values give different texts, so the text can key a value.
func KeyText(s string) string {
	plain := true // printable or control ASCII other than NUL and backslash: the usual value
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain || utf8.ValidString(s) && !strings.Contains(s, "\x00") && !hasHexEscape(s) {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	esc := func(c byte) { b.WriteString(`\x`); b.WriteByte(hex[c>>4]); b.WriteByte(hex[c&15]) }
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1, r == 0:
			esc(s[i])
		case r == '\\' && hasHexEscape(s[i:i+min(len(s)-i, 4)]):
			esc('\\')
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// hasHexEscape reports whether s holds `\x` and two capital hex digits.
func hasHexEscape(s string) bool {
	for i := strings.Index(s, `\x`); i >= 0 && i+3 < len(s); {
		if isUpperHex(s[i+2]) && isUpperHex(s[i+3]) {
			return true
		}
		j := strings.Index(s[i+1:], `\x`)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

// RawKeyText is KeyText's inverse: the bytes the text t was written from
// (each `\xHH` back to its byte). A text without such a sequence is
// returned as it is.
func RawKeyText(t string) string {
	if !hasHexEscape(t) {
		return t
	}
	var b strings.Builder
	b.Grow(len(t))
	for i := 0; i < len(t); {
		if t[i] == '\\' && i+3 < len(t) && t[i+1] == 'x' && isUpperHex(t[i+2]) && isUpperHex(t[i+3]) {
			b.WriteByte(unhex(t[i+2])<<4 | unhex(t[i+3]))
			i += 4
			continue
		}
		b.WriteByte(t[i])
		i++
	}
	return b.String()
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}
