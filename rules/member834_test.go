package rules

import (
	"reflect"
	"regexp"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

func TestCheckMemberLoop(t *testing.T) {
	cinRe := regexp.MustCompile(`^[0-9]{8}[A-Z]$`)
	good := MemberLoop{MaintenanceType: "021", RefCIN: "12345678A", Named: true, CoverageLoops: 1}
	end := civil.Date(20261031)
	with := func(f func(*MemberLoop)) MemberLoop { l := good; f(&l); return l }
	for _, tc := range []struct {
		name    string
		loop    MemberLoop
		valid   func(string) bool
		want    []string // elements of the findings, in order
		wantEnd bool
		wantCIN string
	}{
		{"clean", good, cinRe.MatchString, nil, false, "12345678A"},
		{"same ID in REF*1L and NM109", with(func(l *MemberLoop) { l.NameID = "12345678A" }), cinRe.MatchString, nil, false, "12345678A"},
		{"two IDs", with(func(l *MemberLoop) { l.NameID = "87654321B" }), cinRe.MatchString, []string{"NM109"}, false, "12345678A"},
		{"NM109 when no REF*1L", with(func(l *MemberLoop) { l.RefCIN, l.NameID = "", "87654321B" }), cinRe.MatchString, nil, false, "87654321B"},
		{"subscriber's REF*0F", with(func(l *MemberLoop) { l.RefCIN, l.Subscriber, l.SubscriberID = "", true, "11111111C" }), cinRe.MatchString, nil, false, "11111111C"},
		{"dependent's REF*0F is not its ID", with(func(l *MemberLoop) { l.RefCIN, l.SubscriberID = "", "11111111C" }), cinRe.MatchString, []string{"REF*1L"}, false, ""},
		{"CIN of the wrong shape", with(func(l *MemberLoop) { l.RefCIN = "1234567A" }), cinRe.MatchString, []string{"REF*1L"}, false, "1234567A"},
		{"any shape without a pattern", with(func(l *MemberLoop) { l.RefCIN = "X" }), nil, nil, false, "X"},
		{"no name", with(func(l *MemberLoop) { l.Named = false }), cinRe.MatchString, []string{"NM1"}, false, "12345678A"},
		{"termination without an end", with(func(l *MemberLoop) { l.MaintenanceType, l.CoverageLoops = "024", 0 }), cinRe.MatchString, []string{"INS03"}, false, "12345678A"},
		{"termination ending at DTP*357", with(func(l *MemberLoop) { l.MaintenanceType, l.CoverageLoops, l.TerminationEnd = "024", 0, end }), cinRe.MatchString, nil, true, "12345678A"},
		{"termination with a coverage loop", with(func(l *MemberLoop) { l.MaintenanceType = "024" }), cinRe.MatchString, nil, false, "12345678A"},
		{"termination in a full file", with(func(l *MemberLoop) { l.MaintenanceType, l.CoverageLoops, l.FullFile = "024", 0, true }), cinRe.MatchString, nil, false, "12345678A"},
		{"termination in a full file ending at DTP*357", with(func(l *MemberLoop) {
			l.MaintenanceType, l.CoverageLoops, l.FullFile, l.TerminationEnd = "024", 0, true, end
		}), cinRe.MatchString, nil, true, "12345678A"},
		{"a change without coverage loops", with(func(l *MemberLoop) { l.MaintenanceType, l.CoverageLoops = "001", 0 }), cinRe.MatchString, nil, false, "12345678A"},
		{"everything wrong, in a fixed order", with(func(l *MemberLoop) {
			l.NameID, l.RefCIN, l.Named, l.MaintenanceType, l.CoverageLoops = "B", "A", false, "024", 0
		}), cinRe.MatchString, []string{"NM109", "REF*1L", "NM1", "INS03"}, false, "A"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cin := MemberCIN(tc.loop)
			if cin != tc.wantCIN {
				t.Errorf("MemberCIN = %q, want %q", cin, tc.wantCIN)
			}
			fs, endAt := CheckMemberLoop(tc.loop, cin, tc.valid, cinRe.String())
			var got []string
			for _, f := range fs {
				got = append(got, f.Element)
			}
			if !reflect.DeepEqual(got, tc.want) || endAt != tc.wantEnd {
				t.Errorf("findings %v end %v, want %v end %v", got, endAt, tc.want, tc.wantEnd)
			}
		})
	}
}

func TestMaintenanceTypeValid(t *testing.T) {
	for code, want := range map[string]bool{"001": true, "021": true, "024": true, "025": true, "030": true, "002": false, "026": false, "": false, "21": false} {
		if got := MaintenanceTypeValid(code); got != want {
			t.Errorf("MaintenanceTypeValid(%q) = %v, want %v", code, got, want)
		}
	}
}
