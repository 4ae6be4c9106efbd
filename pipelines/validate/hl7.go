package validate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
	"github.com/calaim-gateway/calaim-gateway/mappings/adt"
	pipeadt "github.com/calaim-gateway/calaim-gateway/pipelines/adt"
)

// isHL7 reports whether the start of a file is HL7 v2 ER7: an MSH, FHS or
// BHS header, after an optional UTF-8 byte order mark, blank lines and an
// MLLP start byte, as the reader skips them.
func isHL7(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte{0xef, 0xbb, 0xbf})
	head = bytes.TrimLeft(head, "\r\n")
	if len(head) > 0 && head[0] == 0x0b {
		head = head[1:]
	}
	if len(head) < 4 {
		return false
	}
	switch string(head[:3]) {
	case "MSH", "FHS", "BHS":
		return true
	}
	return false
}

// validateHL7 reads every message of an HL7 v2 file and reports each
// problem with its line, message (ordinal and MSH-10), segment and field:
// the codec's (delimiters, segment IDs, batch counts, header fields,
// escapes) and, for ADT messages, what the ADT mapping needs.
func validateHL7(v *validator, path string) Status {
	f, err := os.Open(path)
	if err != nil {
		return v.unusable(err)
	}
	defer f.Close()
	cfg, _, err := v.load()
	if err != nil {
		return v.fail(err)
	}
	profiles := pipeadt.Profiles(cfg)
	rd := hl7.NewReader(f)
	messages, bad, problems := 0, 0, 0
	types := map[string]int{}
	report := func(e *hl7.Error) {
		v.printf("%s: %s\n", path, e.Error())
		problems++
	}
	for {
		if err := v.stopped(messages); err != nil {
			return v.unusable(err)
		}
		m, err := rd.Next()
		if err == io.EOF {
			break
		}
		var he *hl7.Error
		if errors.As(err, &he) {
			if he.MessageIndex > 0 {
				messages++
				bad++
			}
			report(he)
			continue
		}
		if err != nil {
			return v.unusable(err)
		}
		messages++
		code, trigger := m.Type()
		types[strings.Trim(code+"^"+trigger, "^")]++
		errs := hl7.Check(m)
		for _, e := range v.hl7Checks(m, profiles) {
			// One problem per field: the codec's says it already.
			if !slices.ContainsFunc(errs, func(o *hl7.Error) bool { return o.Line == e.Line && o.Segment == e.Segment && o.Field == e.Field }) {
				errs = append(errs, e)
			}
		}
		for _, e := range errs {
			report(e)
		}
		if len(errs) > 0 {
			bad++
		}
	}
	names := make([]string, 0, len(types))
	for t, n := range types {
		names = append(names, fmt.Sprintf("%s %d", t, n))
	}
	sort.Strings(names)
	v.printf("%s: HL7 v2, %d message(s) (%s), %d with problems, %d problem(s)\n", path, messages, strings.Join(names, ", "), bad, problems)
	if problems > 0 || messages == 0 {
		if messages == 0 && problems == 0 {
			v.printf("%s: no message\n", path)
		}
		return Invalid
	}
	return OK
}

// hl7Checks returns what keeps an ADT message from being stored as an
// event (mappings/adt), and a PID-3 without the identifier its sender's
// profile names (the member cannot be matched). Other message types have
// no checks beyond the codec's.
func (v *validator) hl7Checks(m *hl7.Message, profiles []adt.Profile) []*hl7.Error {
	if code, _ := m.Type(); code != "ADT" {
		return nil
	}
	p := adt.Choose(profiles, m)
	ev, errs := adt.Map(m, p)
	if ev.Kind != "" && ev.CIN == "" && len(ev.Identifiers) > 0 {
		errs = append(errs, hl7.ErrorAt(m, m.First("PID"), 3, fmt.Sprintf("no identifier of type %q and assigning authority %q (sender profile %s): the member cannot be matched", p.IDType, p.Authority, p.Name)))
	}
	return errs
}
