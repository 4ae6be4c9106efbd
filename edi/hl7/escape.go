package hl7

import (
	"bytes"
	"fmt"
	"strings"
)

// Unescape decodes the escape sequences of a value: \F\ \S\ \T\ \R\ \E\
// become the message's delimiters, \P\ its truncation character, \Xhh..\ the
// bytes hh... Formatting and character-set sequences (\H\ \N\ \.br\ \Z..\
// \C..\ \M..\) and malformed ones are kept as written; CheckEscapes reports
// the malformed ones. Without an escape character (MSH-2 of two characters)
// the value is kept as written.
func Unescape(b []byte, d Delimiters) string {
	i := indexByte(b, d.Escape)
	if i < 0 || d.Escape == 0 {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for i >= 0 {
		sb.Write(b[:i])
		b = b[i:]
		j := indexByte(b[1:], d.Escape)
		if j < 0 {
			break
		}
		seq := b[1 : 1+j]
		if out, ok := decodeEscape(seq, d); ok {
			sb.WriteString(out)
		} else {
			sb.Write(b[:j+2])
		}
		b = b[j+2:]
		i = indexByte(b, d.Escape)
	}
	sb.Write(b)
	return sb.String()
}

func decodeEscape(seq []byte, d Delimiters) (string, bool) {
	if len(seq) == 0 {
		return "", false
	}
	if len(seq) == 1 {
		switch seq[0] {
		case 'F':
			return string([]byte{d.Field}), true
		case 'S':
			return string([]byte{d.Component}), true
		case 'T':
			if d.Subcomponent != 0 {
				return string([]byte{d.Subcomponent}), true
			}
		case 'R':
			return string([]byte{d.Repetition}), true
		case 'E':
			return string([]byte{d.Escape}), true
		case 'P':
			if d.Truncation != 0 {
				return string([]byte{d.Truncation}), true
			}
		}
		return "", false
	}
	if seq[0] == 'X' && len(seq)%2 == 1 {
		out := make([]byte, 0, len(seq)/2)
		for k := 1; k < len(seq); k += 2 {
			hi, ok1 := hexVal(seq[k])
			lo, ok2 := hexVal(seq[k+1])
			if !ok1 || !ok2 {
				return "", false
			}
			out = append(out, hi<<4|lo)
		}
		return string(out), true
	}
	return "", false
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// CheckEscapes reports the first malformed escape sequence of a value: an
// escape character that is not closed, an \X\ sequence that is not pairs of
// hex digits, or a sequence HL7 does not define. Without an escape
// character there is nothing to check.
func CheckEscapes(b []byte, d Delimiters) error {
	if d.Escape == 0 {
		return nil
	}
	for {
		i := indexByte(b, d.Escape)
		if i < 0 {
			return nil
		}
		b = b[i+1:]
		j := indexByte(b, d.Escape)
		if j < 0 {
			return fmt.Errorf("escape character %q not closed", d.Escape)
		}
		seq := b[:j]
		b = b[j+1:]
		if _, ok := decodeEscape(seq, d); ok {
			continue
		}
		switch {
		case len(seq) == 0:
			return fmt.Errorf("empty escape sequence")
		case len(seq) == 1 && (seq[0] == 'H' || seq[0] == 'N'):
		case seq[0] == '.' || seq[0] == 'Z' || seq[0] == 'C' || seq[0] == 'M':
		case seq[0] == 'X':
			return fmt.Errorf("escape \\%s\\ is not pairs of hexadecimal digits", seq)
		default:
			return fmt.Errorf("unknown escape sequence \\%s\\", seq)
		}
	}
}

// Escape encodes a value so that it can be written inside one subcomponent:
// each delimiter becomes its escape sequence. Without an escape character
// nothing can be escaped, and s is returned as it is.
func Escape(s string, d Delimiters) string {
	if d.Escape == 0 || !strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x80 && d.special(byte(r))
	}) {
		return s
	}
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == d.Escape:
			sb.WriteString(string([]byte{d.Escape, 'E', d.Escape}))
		case c == d.Field:
			sb.WriteString(string([]byte{d.Escape, 'F', d.Escape}))
		case c == d.Component:
			sb.WriteString(string([]byte{d.Escape, 'S', d.Escape}))
		case d.Subcomponent != 0 && c == d.Subcomponent:
			sb.WriteString(string([]byte{d.Escape, 'T', d.Escape}))
		case c == d.Repetition:
			sb.WriteString(string([]byte{d.Escape, 'R', d.Escape}))
		case d.Truncation != 0 && c == d.Truncation:
			sb.WriteString(string([]byte{d.Escape, 'P', d.Escape}))
		case c == '\r' || c == '\n':
			fmt.Fprintf(&sb, "%cX%02X%c", d.Escape, c, d.Escape)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func (d Delimiters) special(c byte) bool {
	return c == d.Field || c == d.Component || c == d.Repetition || c == d.Escape ||
		(d.Subcomponent != 0 && c == d.Subcomponent) || (d.Truncation != 0 && c == d.Truncation) || c == '\r' || c == '\n'
}

func indexByte(b []byte, c byte) int { return bytes.IndexByte(b, c) }
