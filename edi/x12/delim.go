package x12

import "fmt"

// Delimiters are the four separators of an interchange. In a file they are
// declared by the ISA segment: the element separator is ISA byte 4, the
// repetition separator is ISA11 (ISA12 version 00402 and later, so also
// the 274's 00405), the component separator is ISA16 and the segment
// terminator is the byte after ISA16.
type Delimiters struct {
	Element    byte // ISA byte 4, conventionally '*'
	Repetition byte // ISA11, conventionally '^'
	Component  byte // ISA16, conventionally ':'
	Segment    byte // after ISA16, conventionally '~'
}

// DefaultDelimiters are the separators most trading partners use.
var DefaultDelimiters = Delimiters{Element: '*', Repetition: '^', Component: ':', Segment: '~'}

// Validate00501 reports whether d can separate an interchange of version
// 00501: Validate, and a repetition separator (ISA11), which 00501 needs.
func (d Delimiters) Validate00501() error {
	if err := d.Validate(); err != nil {
		return err
	}
	if d.Repetition == 0 {
		return fmt.Errorf("x12: no repetition separator")
	}
	return nil
}

// Validate reports whether the four delimiters are distinct and are not
// characters that can occur in data (letters, digits, space).
func (d Delimiters) Validate() error {
	seps := []struct {
		name string
		c    byte
	}{{"element", d.Element}, {"repetition", d.Repetition}, {"component", d.Component}, {"segment", d.Segment}}
	for i, a := range seps {
		if a.c == 0 {
			if a.name == "repetition" {
				continue // 004010 and earlier have no repetition separator
			}
			return fmt.Errorf("x12: %s separator is empty", a.name)
		}
		if isAlnum(a.c) || a.c == ' ' {
			return fmt.Errorf("x12: %s separator %q may occur in data", a.name, a.c)
		}
		for _, b := range seps[i+1:] {
			if a.c == b.c && a.c != 0 {
				return fmt.Errorf("x12: %s and %s separators are both %q", a.name, b.name, a.c)
			}
		}
	}
	return nil
}

// IsDelimiter reports whether c is one of the separators.
func (d Delimiters) IsDelimiter(c byte) bool {
	return c == d.Element || c == d.Component || c == d.Segment || (d.Repetition != 0 && c == d.Repetition)
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}
