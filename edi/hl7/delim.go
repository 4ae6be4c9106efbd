package hl7

import (
	"fmt"
)

// Delimiters are a message's encoding characters: MSH-1 (Field) and MSH-2
// (Component, Repetition, Escape, Subcomponent and, from v2.7, Truncation).
type Delimiters struct {
	Field, Component, Repetition, Escape, Subcomponent byte
	// Truncation is 0 when MSH-2 has four characters.
	Truncation byte
}

// Default is |^~\& with no truncation character.
var Default = Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}

// encoding returns MSH-2 as written.
func (d Delimiters) encoding() string {
	b := []byte{d.Component, d.Repetition, d.Escape, d.Subcomponent}
	if d.Truncation != 0 {
		b = append(b, d.Truncation)
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
	if len(enc) < 4 || len(enc) > 5 {
		return Delimiters{}, 0, fmt.Errorf("encoding characters %q: want 4 or 5", enc)
	}
	d.Component, d.Repetition, d.Escape, d.Subcomponent = enc[0], enc[1], enc[2], enc[3]
	if len(enc) == 5 {
		d.Truncation = enc[4]
	}
	all := []byte{d.Field, d.Component, d.Repetition, d.Escape, d.Subcomponent}
	if d.Truncation != 0 {
		all = append(all, d.Truncation)
	}
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
