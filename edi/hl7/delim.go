package hl7

import (
	"fmt"
)

// Delimiters are a message's encoding characters: MSH-1 (Field) and MSH-2
// (Component, Repetition, Escape, Subcomponent and, from v2.7, Truncation).
// HL7 lets a message that uses no subcomponents leave the subcomponent
// separator out of MSH-2, and one that uses no escapes the escape character
// too: MSH-2 then has three or two characters, and the ones left out are 0.
type Delimiters struct {
	Field, Component, Repetition, Escape, Subcomponent byte
	// Truncation is 0 when MSH-2 has four characters or fewer.
	Truncation byte
}

// Default is |^~\& with no truncation character.
var Default = Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}

// encoding returns MSH-2 as written: the characters up to the first one
// left out.
func (d Delimiters) encoding() string {
	b := make([]byte, 0, 5)
	for _, c := range []byte{d.Component, d.Repetition, d.Escape, d.Subcomponent, d.Truncation} {
		if c == 0 {
			break
		}
		b = append(b, c)
	}
	return string(b)
}

// parseDelimiters reads MSH-1 and MSH-2 (or FHS/BHS-1 and -2) from the start
// of a header segment. It returns the delimiters and the offset of the field
// separator that ends the encoding characters (len(seg) when none follows).
func parseDelimiters(seg []byte) (Delimiters, int, error) {
	if len(seg) < 4 {
		return Delimiters{}, 0, fmt.Errorf("no field separator after %q", seg)
	}
	d := Delimiters{Field: seg[3]}
	enc := seg[4:]
	end := len(seg)
	for i, c := range enc {
		if c == d.Field {
			enc, end = enc[:i], 4+i
			break
		}
	}
	if len(enc) < 2 || len(enc) > 5 {
		return Delimiters{}, 0, fmt.Errorf("encoding characters %q: want 2 to 5 (component, repetition, escape, subcomponent, truncation)", enc)
	}
	for i, p := range []*byte{&d.Component, &d.Repetition, &d.Escape, &d.Subcomponent, &d.Truncation}[:len(enc)] {
		*p = enc[i]
	}
	all := append([]byte{d.Field}, enc...)
	for i, c := range all {
		if c <= ' ' || c >= 0x7f || isAlnum(c) {
			return Delimiters{}, 0, fmt.Errorf("encoding character %q is not a printable ASCII mark", c)
		}
		for _, o := range all[:i] {
			if o == c {
				return Delimiters{}, 0, fmt.Errorf("encoding character %q used twice", c)
			}
		}
	}
	return d, end, nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
