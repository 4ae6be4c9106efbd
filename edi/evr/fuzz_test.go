package evr

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzRead checks, for any input, that Read does not panic; that it
// returns a header or an error, never both nor neither; that every error
// it makes itself starts with "evr: " and names a line, the root element
// or its absence; that an error from the callback ends the read and comes
// back as it is; that each encounter's reference and Encounter ID are
// trimmed, its line is a line of the input and comes after the previous
// encounter's; that the header's fields are trimmed; and that the read is
// the same whatever the read sizes.
func FuzzRead(f *testing.F) {
	sample, err := os.ReadFile("../../testdata/dhcs/PLAN_305_837P_MCE_20261123_00001_EVR.xml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add(sample[:len(sample)/2])
	f.Add(bytes.Replace(sample, []byte("<Encounters>"), []byte("<Encounters><Encounter><Encounter/></Encounter>"), 1))
	f.Add([]byte(`<EncounterValidationResponse xmlns="urn:other"/>`))
	f.Add([]byte(`<EncounterValidationResponse xmlns="` + Namespace + `">` + "\n<Transactions>"))
	f.Add([]byte(`<EncounterValidationResponse xmlns="` + Namespace + `"><EncounterFileName> A<!-- x -->B </EncounterFileName>` +
		`<Transactions><Transaction><Encounters><Encounter Status="Accepted"/></Encounters></Transaction></Transactions></EncounterValidationResponse>`))
	f.Add([]byte(`<?xml version="1.0" encoding="utf-16"?><EncounterValidationResponse/>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		whole, err := trace(bytes.NewReader(data))
		if got, err2 := trace(iotest.OneByteReader(bytes.NewReader(data))); got != whole || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("one byte at a time\n%s%v\nwhole\n%s%v", got, err2, whole, err)
		}
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "evr: ") || !strings.Contains(msg, "line ") && !strings.Contains(msg, "root element") && !strings.Contains(msg, "no EncounterValidationResponse") {
				t.Fatalf("error %q names no line, root element or its absence", msg)
			}
		}
		n, prev := 0, 0
		stop := errors.New("stop")
		h, err := Read(bytes.NewReader(data), func(h *Header, _ *Transaction, e *Encounter) error {
			n++
			for _, s := range []string{e.Reference, e.EncounterID, h.FileName, h.SubmitterName, h.SubmissionDate, h.ValidationStatus} {
				if s != strings.TrimSpace(s) {
					t.Fatalf("value %q is not trimmed", s)
				}
			}
			if e.Line < 1 || e.Line > lines || e.Line < prev {
				t.Fatalf("encounter %d at line %d (previous %d, input of %d lines)", n, e.Line, prev, lines)
			}
			prev = e.Line
			for _, s := range e.Errors() {
				if s == "" {
					t.Fatal("an empty error text")
				}
			}
			return nil
		})
		if (h == nil) == (err == nil) {
			t.Fatalf("header %v and error %v", h, err)
		}
		if n > 0 {
			// The callback's error ends the read at the encounter returning it.
			calls := 0
			_, err := Read(bytes.NewReader(data), func(*Header, *Transaction, *Encounter) error {
				calls++
				if calls == n {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) || calls != n {
				t.Fatalf("callback error at encounter %d: %v after %d calls", n, err, calls)
			}
		}
	})
}

// trace describes what ReadTransactions returns: each encounter and each
// transaction's end with its header and transaction as seen then, and the
// header at the end.
func trace(r io.Reader) (string, error) {
	var b strings.Builder
	h, err := ReadTransactions(r, func(h *Header, t *Transaction, e *Encounter) error {
		fmt.Fprintf(&b, "%+v %+v %+v %q\n", *h, *t, *e, e.Errors())
		return nil
	}, func(h *Header, t *Transaction) error {
		fmt.Fprintf(&b, "end %+v %+v %q\n", *h, *t, Errors(t.Responses))
		return nil
	})
	if h != nil {
		fmt.Fprintf(&b, "%+v\n", *h)
	}
	return b.String(), err
}
