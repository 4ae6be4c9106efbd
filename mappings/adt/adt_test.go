package adt

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
)

func read(t *testing.T, in string) *hl7.Message {
	t.Helper()
	m, err := hl7.NewReader(strings.NewReader(in)).Next()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var base = "MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301083000||ADT^%s|MSG1|P|2.5.1\r" +
	"EVN|%s|20260301082500\r" +
	"PID|1||MRN1^^^STMARYS^MR~91234567a ^^^CAMEDI^MA||DOE^JOHN\r" +
	pv1 + "\r" +
	"DG1|1||J18.9^Pneumonia^I10||20260301|A\r" +
	"DG1|2||E11.9^Diabetes^I10||20260301|W\r"

// pv1 is a PV1 with fields 2, 3, 4, 19, 36, 44 and 45.
var pv1 = func() string {
	f := make([]string, 46)
	f[0], f[1], f[2], f[3], f[19], f[36], f[44], f[45] = "PV1", "1", "I", "4W^401^A^STMARYS", "V77", "06", "20260301080000", "20260302110000"
	f[4] = " e ^Emergency^HL70007"
	return strings.Join(f, "|")
}()

func msg(trigger string) string {
	return strings.ReplaceAll(base, "%s", trigger)
}

func TestMapEveryTrigger(t *testing.T) {
	la := DefaultProfile().Location
	for _, tt := range []struct {
		trigger string
		kind    domain.ADTKind
	}{
		{"A01", domain.ADTAdmit}, {"A02", domain.ADTTransfer}, {"A03", domain.ADTDischarge},
		{"A04", domain.ADTRegister}, {"A05", domain.ADTPreadmit}, {"A06", domain.ADTToInpatient},
		{"A07", domain.ADTToOutpatient}, {"A08", domain.ADTUpdate}, {"A11", domain.ADTCancelAdmit},
		{"A12", domain.ADTCancelTransfer}, {"A13", domain.ADTCancelDischarge},
	} {
		t.Run(tt.trigger, func(t *testing.T) {
			ev, errs := Map(read(t, msg(tt.trigger)), DefaultProfile())
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			want := domain.ADTEvent{
				Sender: "default", ControlID: "MSG1", SendingApplication: "EPIC", SendingFacility: "STMARYS", Trigger: tt.trigger, Kind: tt.kind, CIN: "91234567A",
				Identifiers: []domain.PatientIdentifier{{ID: "MRN1", Authority: "STMARYS", Type: "MR"}, {ID: "91234567a ", Authority: "CAMEDI", Type: "MA"}},
				EventTime:   time.Date(2026, 3, 1, 8, 25, 0, 0, la), MessageTime: time.Date(2026, 3, 1, 8, 30, 0, 0, la),
				Facility: "STMARYS", PatientClass: "I", AdmissionType: "E", VisitNumber: "V77",
				AdmitTime: time.Date(2026, 3, 1, 8, 0, 0, 0, la), DischargeTime: time.Date(2026, 3, 2, 11, 0, 0, 0, la),
				Disposition: "06",
				Diagnoses:   []domain.Diagnosis{{Code: "J18.9", Text: "Pneumonia", System: "I10", Type: "A"}, {Code: "E11.9", Text: "Diabetes", System: "I10", Type: "W"}},
			}
			if !equal(ev, want) {
				t.Errorf("got\n%+v\nwant\n%+v", ev, want)
			}
		})
	}
}

func equal(a, b domain.ADTEvent) bool {
	if len(a.Identifiers) != len(b.Identifiers) || len(a.Diagnoses) != len(b.Diagnoses) {
		return false
	}
	for i := range a.Identifiers {
		if a.Identifiers[i] != b.Identifiers[i] {
			return false
		}
	}
	for i := range a.Diagnoses {
		if a.Diagnoses[i] != b.Diagnoses[i] {
			return false
		}
	}
	ta, tb := []time.Time{a.EventTime, a.MessageTime, a.AdmitTime, a.DischargeTime}, []time.Time{b.EventTime, b.MessageTime, b.AdmitTime, b.DischargeTime}
	for i := range ta {
		if !ta[i].Equal(tb[i]) {
			return false
		}
	}
	a.Identifiers, b.Identifiers, a.Diagnoses, b.Diagnoses = nil, nil, nil, nil
	a.EventTime, a.MessageTime, a.AdmitTime, a.DischargeTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	b.EventTime, b.MessageTime, b.AdmitTime, b.DischargeTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a.Sender == b.Sender && a.ControlID == b.ControlID && a.SendingApplication == b.SendingApplication && a.SendingFacility == b.SendingFacility && a.Trigger == b.Trigger && a.Kind == b.Kind &&
		a.CIN == b.CIN && a.Facility == b.Facility && a.PatientClass == b.PatientClass && a.AdmissionType == b.AdmissionType && a.VisitNumber == b.VisitNumber &&
		a.Disposition == b.Disposition && a.PriorCIN == b.PriorCIN
}

// MSH-3.1 and MSH-4.1 name the sending system (domain.SenderKey): the
// first component only, read by domain.SendingID; a message the intake
// cannot use keeps them too, for the key its exception is stored under.
func TestMapSendingSystem(t *testing.T) {
	for _, tt := range []struct{ msh, app, fac string }{
		{"MSH|^~\\&|EPIC|STMARYS|", "EPIC", "STMARYS"},
		{"MSH|^~\\&|EPIC^2.16.840.1.1^ISO|MERCY^1.2.3^ISO~OTHER|", "EPIC", "MERCY"},
		{"MSH|^~\\&| Epic |  mercy  |", "Epic", "mercy"},
		{"MSH|^~\\&||\"\"|", "", ""},
		{"MSH|^~\\&|^APP|^FAC|", "", ""},
	} {
		for _, trigger := range []string{"A01", "Z99"} {
			in := tt.msh + strings.SplitN(msg(trigger), "|", 5)[4]
			ev, _ := Map(read(t, in), DefaultProfile())
			if ev.SendingApplication != tt.app || ev.SendingFacility != tt.fac || ev.ControlID != "MSG1" {
				t.Errorf("%q (%s): application %q facility %q control ID %q, want %q %q MSG1", tt.msh, trigger, ev.SendingApplication, ev.SendingFacility, ev.ControlID, tt.app, tt.fac)
			}
		}
	}
}

// PV1-4 admission type: its first component, trimmed and upper-cased; an
// empty field, HL7's null ("") or a PV1 without field 4 is "" (not sent).
func TestMapAdmissionType(t *testing.T) {
	for _, tt := range []struct{ pv1, want string }{
		{"PV1|1|I||E", "E"},
		{"PV1|1|I|| u ", "U"},
		{"PV1|1|I||c^Elective^HL70007", "C"},
		{"PV1|1|I||R~E", "R"},
		{"PV1|1|I||^Emergency", ""},
		{`PV1|1|I||""`, ""},
		{"PV1|1|I||", ""},
		{"PV1|1|I", ""},
	} {
		in := strings.Replace(msg("A01"), pv1, tt.pv1, 1)
		ev, errs := Map(read(t, in), DefaultProfile())
		if len(errs) > 0 || ev.AdmissionType != tt.want {
			t.Errorf("%s: admission type %q, want %q (%v)", tt.pv1, ev.AdmissionType, tt.want, errs)
		}
	}
}

func TestProfiles(t *testing.T) {
	m := read(t, msg("A01"))
	tests := []struct {
		name    string
		profile Profile
		cin     string
	}{
		{"type MA, any authority", Profile{IDType: "MA"}, "91234567A"},
		{"authority only", Profile{Authority: "camedi"}, "91234567A"},
		{"type and authority", Profile{IDType: "MR", Authority: "STMARYS"}, "MRN1"},
		{"no such authority", Profile{IDType: "MA", Authority: "OTHER"}, ""},
		{"no such type", Profile{IDType: "MC"}, ""},
		{"anything: the first", Profile{}, "MRN1"},
	}
	for _, tt := range tests {
		ev, errs := Map(m, tt.profile)
		if len(errs) > 0 || ev.CIN != tt.cin {
			t.Errorf("%s: CIN %q, want %q (%v)", tt.name, ev.CIN, tt.cin, errs)
		}
	}
	ps := []Profile{{Name: "any"}, {Name: "stm", Facilities: []string{"stmarys"}}, {Name: "other", Facilities: []string{"X"}}}
	if got := Choose(ps, m).Name; got != "stm" {
		t.Errorf("Choose by facility: %q", got)
	}
	if got := Choose(ps[2:], m).Name; got != "default" {
		t.Errorf("Choose with no match: %q", got)
	}
	if got := Choose(ps[:1], m).Name; got != "any" {
		t.Errorf("Choose the catch-all: %q", got)
	}
}

// A blank or null ("") identifier of the profile's type is no CIN: the
// next one of that type is, in PID-3 and in MRG-1.
func TestBlankIdentifiers(t *testing.T) {
	for _, tt := range []struct {
		name, pid3, mrg1, cin, prior string
	}{
		{"blank, then the CIN", " ^^^^MA~91234567a^^^^MA", "OLD1^^^^MA", "91234567A", "OLD1"},
		{"null, then the CIN", `""^^^^MA~91234567A^^^^MA`, "OLD1^^^^MA", "91234567A", "OLD1"},
		{"prior CIN after a null", "NEW1^^^^MA", `""^^^^MA~ OLD1 ^^^^MA`, "NEW1", "OLD1"},
		{"only a blank one", " ^^^^MA~MRN1^^^^MR", "OLD1^^^^MA", "", "OLD1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := "MSH|^~\\&|S|F|GW|PLAN|20260301083000||ADT^A40|M5|P|2.5\rPID|||" + tt.pid3 + "\rMRG|" + tt.mrg1 + "\r"
			ev, errs := Map(read(t, in), DefaultProfile())
			if len(errs) > 0 || ev.CIN != tt.cin || ev.PriorCIN != tt.prior {
				t.Errorf("CIN %q, prior %q (%v), want %q and %q", ev.CIN, ev.PriorCIN, errs, tt.cin, tt.prior)
			}
		})
	}
}

func TestMapFallbacksAndOffsets(t *testing.T) {
	in := "MSH|^~\\&|S|FAC1|GW|PLAN|20260301083000-0500||ADT^A04|M2|P|2.3\r" +
		"EVN|A04\rPID|||91234567A^^^^MA\rPV1||E\r"
	ev, errs := Map(read(t, in), DefaultProfile())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	want := time.Date(2026, 3, 1, 13, 30, 0, 0, time.UTC)
	if !ev.EventTime.Equal(want) || ev.Facility != "FAC1" || ev.PatientClass != "E" || !ev.AdmitTime.IsZero() || len(ev.Diagnoses) != 0 {
		t.Errorf("got %+v", ev)
	}
	// The trigger in EVN-1 only (MSH-9 without a component 2) and the
	// facility of EVN-7.
	in = "MSH|^~\\&|S|FAC1|GW|PLAN|20260301083000||ADT|M3|P|2.3\rEVN|A03|20260301090000|||||EVFAC\rPID|||X^^^^MA\rPV1||I\r"
	ev, errs = Map(read(t, in), DefaultProfile())
	if len(errs) > 0 || ev.Kind != domain.ADTDischarge || ev.Facility != "EVFAC" || ev.EventTime.Hour() != 9 {
		t.Errorf("got %+v %v", ev, errs)
	}
}

func TestMerge(t *testing.T) {
	in := "MSH|^~\\&|S|F|GW|PLAN|20260301083000||ADT^A40|M4|P|2.5\rEVN|A40|20260301083000\r" +
		"PID|||NEW1^^^^MA\rMRG|OLD1^^^^MA~MRN9^^^^MR\r"
	ev, errs := Map(read(t, in), DefaultProfile())
	if len(errs) > 0 || ev.Kind != domain.ADTMerge || ev.CIN != "NEW1" || ev.PriorCIN != "OLD1" {
		t.Errorf("got %+v %v", ev, errs)
	}
}

func TestMapProblems(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"not ADT", "MSH|^~\\&|S|F|G|P|20260301||ORU^R01|X|P|2.5\r", []string{`field MSH-9: message code "ORU" is not ADT`}},
		{"unknown trigger", "MSH|^~\\&|S|F|G|P|20260301||ADT^A28|X|P|2.5\r", []string{`field MSH-9: trigger event "A28" is not one calgw reads`}},
		{"no PID", "MSH|^~\\&|S|F|G|P|20260301||ADT^A01|X|P|2.5\rEVN||20260301\r", []string{"segment MSH #1: ADT^A01 has no PID segment"}},
		{"no PV1, empty PID-3, bad times", "MSH|^~\\&|S|F|G|P|2026030||ADT^A01|X|P|2.5\rEVN||20261301\rPID|1\r", []string{
			`field MSH-7: date/time of message: time "2026030"`, `field EVN-2: recorded date/time: time "20261301" is not a valid date/time`,
			"no event time", "field PID-3: patient identifier list is empty", "ADT^A01 has no PV1 segment"}},
		{"bad PV1 times and DG1 without a code", "MSH|^~\\&|S|F|G|P|20260301||ADT^A03|X|P|2.5\rPID|||1^^^^MA\rPV1||I" + strings.Repeat("|", 42) + "x|2026\rDG1|1||^text\r", []string{
			`field PV1-44: admit date/time: time "x"`, "field DG1-3: diagnosis code is missing"}},
		{"A40 without MRG", "MSH|^~\\&|S|F|G|P|20260301||ADT^A40|X|P|2.5\rPID|||1^^^^MA\r", []string{"ADT^A40 has no MRG segment"}},
		// ADT_A39 repeats its PATIENT group (PID, PD1, MRG, PV1): a second
		// merge is not left unread.
		{"A40 with two patient groups", "MSH|^~\\&|S|F|G|P|20260301||ADT^A40|X|P|2.5\rPID|||1^^^^MA\rMRG|9^^^^MA\rPID|||2^^^^MA\rMRG|8^^^^MA\r", []string{"segment MRG #5: ADT^A40 has 2 patient groups (PID and MRG)"}},
		{"A40 without a prior CIN", "MSH|^~\\&|S|F|G|P|20260301||ADT^A40|X|P|2.5\rPID|||1^^^^MA\rMRG|9^^^^MR\r", []string{`field MRG-1: no prior identifier of type "MA"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Map(read(t, tt.in), DefaultProfile())
			if len(errs) != len(tt.want) {
				t.Fatalf("got %v, want %v", errs, tt.want)
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tt.want[i]) || !strings.Contains(e.Error(), `(MSH-10 "X")`) {
					t.Errorf("error %q, want it to contain %q", e.Error(), tt.want[i])
				}
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	if got := Cancelled(domain.ADTCancelAdmit); len(got) != 2 || got[0] != domain.ADTAdmit || got[1] != domain.ADTRegister {
		t.Errorf("A11 cancels %v", got)
	}
	if got := Cancelled(domain.ADTCancelTransfer); len(got) != 1 || got[0] != domain.ADTTransfer {
		t.Errorf("A12 cancels %v", got)
	}
	if got := Cancelled(domain.ADTCancelDischarge); len(got) != 1 || got[0] != domain.ADTDischarge {
		t.Errorf("A13 cancels %v", got)
	}
	if Cancelled(domain.ADTAdmit) != nil {
		t.Error("an admit cancels something")
	}
}

// TestFixtures maps the codec's fixtures of three senders' styles.
func TestFixtures(t *testing.T) {
	for _, tt := range []struct {
		file, cin, class, disposition string
	}{
		{"../../edi/hl7/testdata/epic-a01.hl7", "91234567A", "I", ""},
		{"../../edi/hl7/testdata/cerner-lf-a03.hl7", "91234567A", "E", "01"},
		{"../../edi/hl7/testdata/meditech-crlf-a08.hl7", "91234567A", "O", ""},
	} {
		f, err := os.Open(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		m, err := hl7.NewReader(f).Next()
		f.Close()
		if err != nil && !errors.Is(err, io.EOF) {
			t.Fatal(err)
		}
		ev, errs := Map(m, DefaultProfile())
		if len(errs) > 0 || ev.CIN != tt.cin || ev.PatientClass != tt.class || ev.Disposition != tt.disposition {
			t.Errorf("%s: %+v %v", tt.file, ev, errs)
		}
	}
}

// HL7's null ("") is no value: a PV1 field written "" is not sent (the
// facility then comes from EVN-7), a DG1 component "" is empty, and a DG1
// whose code is "" is no diagnosis.
func TestMapNullIsNoValue(t *testing.T) {
	f := make([]string, 46)
	f[0], f[1], f[2], f[3], f[19], f[36] = "PV1", "1", `""`, `4W^401^A^""`, `""`, `""`
	in := strings.Replace(msg("A08"), pv1, strings.Join(f, "|"), 1)
	in = strings.Replace(in, "EVN|A08|20260301082500", "EVN|A08|20260301082500|||||EVNFAC", 1)
	in = strings.Replace(in, "J18.9^Pneumonia^I10||20260301|A", `J18.9^""^""||20260301|""`, 1)
	ev, errs := Map(read(t, in), DefaultProfile())
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if ev.PatientClass != "" || ev.Facility != "EVNFAC" || ev.VisitNumber != "" || ev.Disposition != "" {
		t.Errorf("class %q, facility %q, visit %q, disposition %q: want \"\", EVNFAC, \"\", \"\"", ev.PatientClass, ev.Facility, ev.VisitNumber, ev.Disposition)
	}
	if d := ev.Diagnoses[0]; d != (domain.Diagnosis{Code: "J18.9"}) {
		t.Errorf("diagnosis %+v, want code J18.9 alone", d)
	}

	// A DG1 whose code is "" is no diagnosis (not a code of two quotes,
	// nor a DG1 without its code).
	in = strings.Replace(msg("A08"), "J18.9^Pneumonia^I10||20260301|A", `""||||`, 1)
	ev, errs = Map(read(t, in), DefaultProfile())
	if len(errs) > 0 || len(ev.Diagnoses) != 1 || ev.Diagnoses[0].Code != "E11.9" {
		t.Errorf("DG1-3 \"\": problems %v, diagnoses %+v, want E11.9 alone", errs, ev.Diagnoses)
	}

	in = strings.Replace(msg("A01"), "^STMARYS|", `^""|`, 1)
	if ev, _ := Map(read(t, in), DefaultProfile()); ev.Facility != "STMARYS" {
		t.Errorf("PV1-3.4 \"\" and no EVN-7: facility %q, want MSH-4.1 STMARYS", ev.Facility)
	}
}

// A profile that lists processing IDs takes messages whose MSH-11.1 is one
// of them; another is a problem at MSH-11. A profile listing none takes any.
func TestMapProcessingIDs(t *testing.T) {
	in := func(id string) *hl7.Message {
		return read(t, "MSH|^~\\&|S|F|G|P|20260301||ADT^A01|X|"+id+"|2.5\rEVN||20260301\rPID|||1^^^^MA\rPV1||I\r")
	}
	for _, tt := range []struct {
		ids     []string
		msh11   string
		problem bool
	}{
		{[]string{"P"}, "P", false},
		{[]string{"P"}, "T", true},
		{[]string{"P"}, "D^A", true},
		{[]string{"P"}, "P^T", false}, // MSH-11.2 is the processing mode
		{[]string{"P", "T"}, "T", false},
		{nil, "T", false},
		{nil, "D", false},
	} {
		p := DefaultProfile()
		p.ProcessingIDs = tt.ids
		_, errs := Map(in(tt.msh11), p)
		if got := len(errs) > 0; got != tt.problem {
			t.Errorf("profile taking %v, MSH-11 %q: problems %v, want a problem: %v", tt.ids, tt.msh11, errs, tt.problem)
			continue
		}
		if tt.problem && (len(errs) != 1 || !strings.Contains(errs[0].Error(), "field MSH-11: processing ID") || !strings.Contains(errs[0].Error(), "takes P")) {
			t.Errorf("MSH-11 %q: %v", tt.msh11, errs)
		}
	}
}
