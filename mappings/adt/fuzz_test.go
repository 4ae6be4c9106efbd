package adt

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
)

// FuzzMap reads any input with edi/hl7's reader and maps each message it
// returns, with the default profile and with one naming an authority, and
// checks that Map does not panic and gives the same answer twice; that
// each problem is placed at a segment of the message (its name, line and
// the message's MSH-10 and ordinal) with a reason; that an event without
// problems has a trigger Map reads, its kind, an event time and the
// patient's identifiers; that its CIN is the upper-cased, trimmed ID of an
// identifier of the profile's type and authority, empty only when PID-3
// has none; that a merge without problems has a prior CIN; and that every
// diagnosis has a code.
func FuzzMap(f *testing.F) {
	files, err := filepath.Glob("../../edi/hl7/testdata/*.hl7")
	if err != nil || len(files) == 0 {
		f.Fatalf("fixtures %v: %v", files, err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, tr := range Triggers {
		f.Add([]byte(msg(tr)))
	}
	f.Add([]byte("MSH|^~\\&|S|F|G|P|2026030||ADT^A01|X|P|2.5\rEVN||20261301\rPID|1\r"))
	f.Add([]byte("MSH|^~\\&|S|F|G|P|20260301||ADT^A03|X|P|2.5\rPID|||1^^^^MA\rPV1||I" + strings.Repeat("|", 42) + "x|2026\rDG1|1||^text\r"))
	f.Add([]byte("MSH|^~\\&|S|F|G|P|20260301||ADT^A40|X|P|2.5\rPID|||NEW1^^^CAMEDI^MA\rMRG|OLD1^^^CAMEDI^MA~9^^^^MR\r"))
	f.Add([]byte("MSH|^~\\&|S|F|G|P|20260301+0000||ADT|X|P|2.5\rEVN|A08|00010101+0000\rPID|||\\F\\ ^^^X&Y^ma\r"))
	profiles := []Profile{DefaultProfile(), {Name: "camedi", IDType: "MA", Authority: "CAMEDI", Facilities: []string{"STMARYS"}}}
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := hl7.NewReader(bytes.NewReader(data), hl7.WithMaxSegment(4096))
		for n := 0; ; n++ {
			if n > 1<<16 {
				t.Fatal("the reader does not end")
			}
			m, err := rd.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				continue
			}
			_ = Choose(profiles, m)
			for _, p := range profiles {
				ev, errs := Map(m, p)
				ev2, errs2 := Map(m, p)
				if !reflect.DeepEqual(ev, ev2) || fmt.Sprint(errs) != fmt.Sprint(errs2) {
					t.Fatalf("two answers:\n%+v %v\n%+v %v", ev, errs, ev2, errs2)
				}
				checkEvent(t, m, p, ev, errs)
			}
		}
	})
}

func checkEvent(t *testing.T, m *hl7.Message, p Profile, ev domain.ADTEvent, errs []*hl7.Error) {
	t.Helper()
	for _, e := range errs {
		switch {
		case e == nil:
			t.Fatal("a nil problem")
		case e.Segment == "" || e.Line < 1 || e.Reason == "" || e.Field < 0:
			t.Fatalf("problem %q is not placed at a segment with a reason: %+v", e.Error(), *e)
		case e.MessageIndex != m.Index || e.Message != m.ControlID():
			t.Fatalf("problem %q names message %d %q, not %d %q", e.Error(), e.MessageIndex, e.Message, m.Index, m.ControlID())
		case !slices.ContainsFunc(m.Segments, func(s hl7.Segment) bool { return s.Name == e.Segment && s.Line == e.Line }):
			t.Fatalf("problem %q names a segment %s at line %d not in the message", e.Error(), e.Segment, e.Line)
		}
	}
	for _, id := range ev.Identifiers {
		if id.ID == "" {
			t.Fatalf("an identifier without an ID: %+v", ev.Identifiers)
		}
	}
	for _, d := range ev.Diagnoses {
		if d.Code == "" {
			t.Fatalf("a diagnosis without a code: %+v", ev.Diagnoses)
		}
	}
	if ev.AdmissionType != strings.ToUpper(strings.TrimSpace(ev.AdmissionType)) || ev.AdmissionType == `""` {
		t.Fatalf("admission type %q", ev.AdmissionType)
	}
	profiled := func(id domain.PatientIdentifier) bool {
		return (p.IDType == "" || strings.EqualFold(id.Type, p.IDType)) && (p.Authority == "" || strings.EqualFold(id.Authority, p.Authority))
	}
	if ev.CIN != "" {
		if ev.CIN != strings.ToUpper(strings.TrimSpace(ev.CIN)) || ev.CIN == `""` ||
			!slices.ContainsFunc(ev.Identifiers, func(id domain.PatientIdentifier) bool {
				return profiled(id) && strings.ToUpper(strings.TrimSpace(id.ID)) == ev.CIN
			}) {
			t.Fatalf("CIN %q is not a trimmed, upper-cased identifier of type %q and authority %q: %+v", ev.CIN, p.IDType, p.Authority, ev.Identifiers)
		}
	} else if i := slices.IndexFunc(ev.Identifiers, func(id domain.PatientIdentifier) bool {
		return profiled(id) && strings.TrimSpace(id.ID) != "" && strings.TrimSpace(id.ID) != `""`
	}); i >= 0 {
		t.Fatalf("no CIN, but identifier %+v is of the profile's type and authority", ev.Identifiers[i])
	}
	if len(errs) > 0 {
		return
	}
	if !slices.Contains(Triggers, ev.Trigger) || ev.Kind == "" || ev.Kind != kinds[ev.Trigger] {
		t.Fatalf("no problem, but trigger %q and kind %q", ev.Trigger, ev.Kind)
	}
	if ev.EventTime.IsZero() {
		t.Fatal("no problem, but no event time")
	}
	if len(ev.Identifiers) == 0 {
		t.Fatal("no problem, but no patient identifier")
	}
	if ev.Kind == domain.ADTMerge && ev.PriorCIN == "" {
		t.Fatal("a merge without problems and without a prior CIN")
	}
}
