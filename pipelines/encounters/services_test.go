package encounters

import (
	"context"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// The lines sent are recorded by member, service and leg for the monthly
// monitoring file; rejected lines and a rerun's duplicates are not.
func TestSentLinesRecordedByServiceAndLeg(t *testing.T) {
	e := newEnv(t)
	in := e.file("inv.csv", header,
		row("INV-1", 1, 1, 3, "G9012", "U8"), // ECM outreach
		row("INV-1", 2, 1, 4, "S5170", "U6"), // CS12 meals
		row("INV-1", 3, 2, 5, "G9008", "U1"), // ECM
		row("INV-1", 4, 2, 6, "99213", ""),   // not an ECM/CS code: rejected
	)
	if _, err := e.convert(e.dir+"/out", in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.convert(e.dir+"/again", in); err != nil { // every line a duplicate
		t.Fatal(err)
	}
	ms := e.state.(store.MonitoringStore)
	var got []string
	err := ms.EachMonthMember(context.Background(), 20260901, 20260930, func(m *store.MonthMember) error {
		for _, s := range m.Services {
			got = append(got, m.CIN+" "+s.Service+" "+s.HCPCS+" "+strings.Join(s.Modifiers, " ")+" "+s.From.String()+map[bool]string{true: " outreach", false: ""}[s.Outreach])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"90000001A ECM G9012 U8 2026-09-03 outreach",
		"90000001A CS12 S5170 U6 2026-09-04",
		"90000002A ECM G9008 U1 2026-09-05",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("recorded:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
