package hl7

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	sim "github.com/google/simhospital/pkg/hl7"
)

// TestOracleSimHospital cross-checks every fixture, field by field, against
// google/simhospital's pkg/hl7 parser: the segments, MSH, EVN, PID-3, PV1
// and DG1 values the ADT mapping reads, and the times.
func TestOracleSimHospital(t *testing.T) {
	if err := sim.TimezoneAndLocation("UTC"); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.hl7")
	if len(files) < 3 {
		t.Fatalf("fixtures: %v", files)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			msgs, errs := readAll(t, bytes.NewReader(mustRead(t, file)))
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			for _, m := range msgs {
				crossCheck(t, m)
			}
		})
	}
}

func crossCheck(t *testing.T, m *Message) {
	t.Helper()
	o, err := sim.ParseMessage(m.Bytes())
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	// Segments: the same bytes in the same order (Z-segments included).
	var theirs [][]byte
	for _, s := range o.Segments {
		if len(s.Value) > 0 {
			theirs = append(theirs, s.Value)
		}
	}
	if len(theirs) != len(m.Segments) {
		t.Fatalf("oracle has %d segments, we have %d", len(theirs), len(m.Segments))
	}
	for i := range theirs {
		if !bytes.Equal(theirs[i], m.Segments[i].Bytes()) {
			t.Errorf("segment %d: oracle %q, we %q", i+1, theirs[i], m.Segments[i].Bytes())
		}
	}
	same := func(what, ours string, theirs any) {
		t.Helper()
		var s string
		switch v := theirs.(type) {
		case *sim.ST:
			if v != nil {
				s = string(*v)
			}
		case *sim.IS: // the oracle keeps IS and ID values escaped
			if v != nil {
				s = oracleUnescape(t, []byte(*v), m.Delimiters)
			}
		case *sim.ID:
			if v != nil {
				s = oracleUnescape(t, []byte(*v), m.Delimiters)
			}
		}
		if s != ours {
			t.Errorf("%s: oracle %q, we %q", what, s, ours)
		}
	}
	sameTime := func(what, ours string, theirs *sim.TS) {
		t.Helper()
		if ours == "" {
			if theirs != nil && !theirs.Time.IsZero() {
				t.Errorf("%s: oracle %v, we nothing", what, theirs.Time)
			}
			return
		}
		got, err := ParseTime(ours, time.UTC)
		if err != nil || theirs == nil || !got.Equal(theirs.Time) {
			t.Errorf("%s: oracle %v, we %v (%v)", what, theirs, got, err)
		}
	}
	mshAny, err := o.Parse("MSH")
	if err != nil {
		t.Fatalf("oracle MSH: %v", err)
	}
	msh := mshAny.(*sim.MSH)
	same("MSH-10", m.ControlID(), msh.MessageControlID)
	code, trigger := m.Type()
	same("MSH-9.1", code, msh.MessageType.MessageCode)
	same("MSH-9.2", trigger, msh.MessageType.TriggerEvent)
	same("MSH-4.1", m.Segments[0].Get(4, 1, 1, 1), msh.SendingFacility.NamespaceID)
	same("MSH-12", m.Version(), msh.VersionID.VersionID)
	sameTime("MSH-7", m.Segments[0].Field(7).Comp(1).String(), msh.DateTimeOfMessage)

	if s := m.First("EVN"); s != nil {
		evn := parseOne[*sim.EVN](t, o, "EVN")
		same("EVN-1", s.Get(1, 1, 1, 1), evn.EventTypeCode)
		sameTime("EVN-2", s.Get(2, 1, 1, 1), evn.RecordedDateTime)
	}
	if s := m.First("PID"); s != nil {
		pid := parseOne[*sim.PID](t, o, "PID")
		f := s.Field(3)
		if f.Reps() != len(pid.PatientIdentifierList) {
			t.Errorf("PID-3: oracle %d repetitions, we %d", len(pid.PatientIdentifierList), f.Reps())
		}
		for i, cx := range pid.PatientIdentifierList {
			r := f.Rep(i + 1)
			same("PID-3.1", r.Comp(1).String(), cx.IDNumber)
			var auth *sim.IS
			if cx.AssigningAuthority != nil {
				auth = cx.AssigningAuthority.NamespaceID
			}
			same("PID-3.4.1", r.Comp(4).Sub(1).String(), auth)
			same("PID-3.5", r.Comp(5).String(), cx.IdentifierTypeCode)
		}
	}
	if s := m.First("PV1"); s != nil {
		pv1 := parseOne[*sim.PV1](t, o, "PV1")
		same("PV1-2", s.Get(2, 1, 1, 1), pv1.PatientClass)
		same("PV1-36", s.Get(36, 1, 1, 1), pv1.DischargeDisposition)
		var fac *sim.IS
		if pv1.AssignedPatientLocation != nil && pv1.AssignedPatientLocation.Facility != nil {
			fac = pv1.AssignedPatientLocation.Facility.NamespaceID
		}
		same("PV1-3.4", s.Get(3, 1, 4, 1), fac)
		sameTime("PV1-44", s.Get(44, 1, 1, 1), pv1.AdmitDateTime)
		var dis *sim.TS
		if len(pv1.DischargeDateTime) > 0 {
			dis = &pv1.DischargeDateTime[0]
		}
		sameTime("PV1-45", s.Get(45, 1, 1, 1), dis)
	}
	if s := m.First("DG1"); s != nil {
		dg1 := parseOne[*sim.DG1](t, o, "DG1")
		if dg1.DiagnosisCodeDG1 != nil {
			same("DG1-3.1", s.Get(3, 1, 1, 1), dg1.DiagnosisCodeDG1.Identifier)
			same("DG1-3.2", s.Get(3, 1, 2, 1), dg1.DiagnosisCodeDG1.Text)
			same("DG1-3.3", s.Get(3, 1, 3, 1), dg1.DiagnosisCodeDG1.NameOfCodingSystem)
		}
	}
}

func oracleUnescape(t *testing.T, b []byte, d Delimiters) string {
	t.Helper()
	out, err := sim.UnescapeText(b, &sim.Delimiters{Field: d.Field, Component: d.Component, Subcomponent: d.Subcomponent, Repetition: d.Repetition, Escape: d.Escape}, false)
	if err != nil {
		t.Fatalf("oracle unescape %q: %v", b, err)
	}
	return string(out)
}

func parseOne[T any](t *testing.T, o *sim.Message, name string) T {
	t.Helper()
	v, err := o.Parse(name)
	if err != nil {
		t.Fatalf("oracle %s: %v", name, err)
	}
	return v.(T)
}

// TestOracleGenerated writes messages in several senders' styles (other
// delimiters, escapes in values, LF ends) and checks both parsers agree.
func TestOracleGenerated(t *testing.T) {
	if err := sim.TimezoneAndLocation("UTC"); err != nil {
		t.Fatal(err)
	}
	styles := []Delimiters{
		Default,
		{Field: '#', Component: ':', Repetition: '*', Escape: '!', Subcomponent: '%'},
		{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&', Truncation: '#'},
	}
	values := []string{"plain", "a|b", "x^y&z~w", `back\slash`, "O'BRIEN-SMITH"}
	for _, d := range styles {
		var buf bytes.Buffer
		w := NewWriter(&buf, d)
		for i, v := range values {
			e := func(s string) string { return Escape(s, d) }
			w.Segment("MSH", "SEND", "FAC", "GW", "PLAN", "20260301083000", "", d.Components("ADT", "A0"+string(rune('1'+i))), e("ID-"+v), "P", "2.5.1")
			w.Segment("EVN", "", "202603010825")
			w.Segment("PID", "1", "", d.Repetitions(d.Components(e(v), "", "", "AUTH", "MR"), d.Components("91234567A", "", "", "CAMEDI", "MA")))
			pv1 := make([]string, 45)
			pv1[1], pv1[2], pv1[35], pv1[43], pv1[44] = "I", d.Components("4W", "", "", e(v)), e(v), "20260301", "20260302"
			w.Segment("PV1", pv1...)
			w.Segment("DG1", "1", "", d.Components("J18.9", e(v), "I10"))
			w.Segment("ZX1", e(v))
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		in := buf.Bytes()
		if d.Field == '#' {
			in = bytes.ReplaceAll(in, []byte{'\r'}, []byte{'\n'})
		}
		msgs, errs := readAll(t, bytes.NewReader(in))
		if len(errs) > 0 || len(msgs) != len(values) {
			t.Fatalf("%d messages, %v", len(msgs), errs)
		}
		for i, m := range msgs {
			if got := m.First("PID").Get(3, 1, 1, 1); got != values[i] {
				t.Errorf("PID-3.1 %q, want %q", got, values[i])
			}
			crossCheck(t, m)
		}
	}
}
