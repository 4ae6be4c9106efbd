package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ValidateMonthlyStream validates a monthly submission as it reads it,
// holding one record at a time: each record of a data set's array against
// that array's item schema, then the outline (the header and every other
// top-level member as read, each data set's array empty) against the whole
// schema. The verdicts are those of ValidateMonthly on the whole document
// (TestStreamMatchesWholeDocument). It returns the number of records read;
// an error means the file is not JSON (its message names the byte offset).
func (s *Set) ValidateMonthlyStream(r io.Reader, report func(Violation)) (records int, err error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	if err := delim(dec, '{'); err != nil {
		return 0, err
	}
	outline := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return records, offset(dec, err)
		}
		key, _ := tok.(string)
		first, err := dec.Token()
		if err != nil {
			return records, offset(dec, err)
		}
		if d, ok := first.(json.Delim); !ok || d != '[' || !s.HasRecordSchema(key) {
			v, err := build(dec, first)
			if err != nil {
				return records, err
			}
			outline[key] = v
			continue
		}
		outline[key] = []any{}
		for i := 0; dec.More(); i++ {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return records, offset(dec, err)
			}
			rec, err := Decode(raw)
			if err != nil {
				return records, offset(dec, err)
			}
			records++
			for _, v := range s.ValidateRecord(key, i, rec) {
				report(v)
			}
		}
		if err := delim(dec, ']'); err != nil {
			return records, err
		}
	}
	if err := delim(dec, '}'); err != nil {
		return records, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return records, fmt.Errorf("offset %d: data after the document's end", dec.InputOffset())
	}
	for _, v := range s.ValidateMonthly(outline) {
		report(v)
	}
	return records, nil
}

// build reads the rest of the value that starts with tok.
func build(dec *json.Decoder, tok json.Token) (any, error) {
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // string, json.Number, bool or nil
	}
	switch d {
	case '[':
		out := []any{}
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return nil, offset(dec, err)
			}
			v, err := build(dec, t)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		_, err := dec.Token()
		return out, err
	case '{':
		out := map[string]any{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, offset(dec, err)
			}
			t, err := dec.Token()
			if err != nil {
				return nil, offset(dec, err)
			}
			v, err := build(dec, t)
			if err != nil {
				return nil, err
			}
			out[k.(string)] = v
		}
		_, err := dec.Token()
		return out, err
	}
	return nil, fmt.Errorf("offset %d: unexpected %v", dec.InputOffset(), d)
}

func delim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return offset(dec, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("offset %d: want %q, found %v", dec.InputOffset(), want, tok)
	}
	return nil
}

func offset(dec *json.Decoder, err error) error {
	return fmt.Errorf("offset %d: %w", dec.InputOffset(), err)
}
