package x999

import (
	"os"
	"strings"
	"testing"
)

// A 999 answering two sets of one group: the first accepted, the second
// rejected with its segment and element errors in words and its IK5 code.
func TestRead(t *testing.T) {
	f, err := os.Open("../../../testdata/dhcs/PLAN_305_837P_MCE_20261123_00001.999")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if a.Sender != "CALIFORNIA-DHCS" || a.Receiver != "951234567305" || a.GroupReceiver != "951234567" {
		t.Errorf("envelope %+v", a)
	}
	if len(a.Groups) != 1 {
		t.Fatalf("groups %+v", a.Groups)
	}
	g := a.Groups[0]
	if g.FunctionalID != "HC" || g.Control != "7" || g.Status != "P" || g.Included != 2 || g.Received != 2 || g.Accepted != 1 || len(g.Sets) != 2 {
		t.Fatalf("group %+v", g)
	}
	if s := g.Sets[0]; s.Control != "0001" || s.Status != "A" || len(s.Errors) != 0 {
		t.Errorf("set 1 %+v", s)
	}
	s := g.Sets[1]
	want := []string{
		"IK3 NM1 at segment 12 (loop 2010BA): 8 (segment has data element errors)",
		"IK4 NM1 at segment 12 (loop 2010BA) element 9: 7 (invalid code value) (data element 67)",
		"IK3 HI at segment 17 (loop 2300): 3 (required segment missing)",
	}
	if s.Control != "0002" || s.Status != "R" || strings.Join(s.Codes, ",") != "5" || strings.Join(s.Errors, "|") != strings.Join(want, "|") {
		t.Errorf("set 2 %+v\nwant errors %q", s, want)
	}
	if SetErrorText("5") != "5 (one or more segments in error)" || SetErrorText("Z9") != "Z9" {
		t.Errorf("SetErrorText: %q %q", SetErrorText("5"), SetErrorText("Z9"))
	}
}

// A group answered by AK9 alone has no sets; a file that is not a 999, or
// an AK9 whose counts are not numbers or negative, is an error.
func TestReadGroupOnlyAndErrors(t *testing.T) {
	env := func(body ...string) string {
		return strings.Join(append(append([]string{
			"ISA*00*          *00*          *ZZ*CALIFORNIA-DHCS*ZZ*951234567305   *261123*1100*^*00501*000000812*0*P*:",
			"GS*FA*CALIFORNIA-DHCS*951234567*20261123*1100*812*X*005010X231A1"}, body...), "GE*1*812", "IEA*1*000000812"), "~") + "~"
	}
	a, err := Read(strings.NewReader(env("ST*999*0001*005010X231A1", "AK1*HC*9*005010X222A1", "AK9*R*3*3*0*4", "SE*4*0001")))
	if err != nil || len(a.Groups) != 1 || len(a.Groups[0].Sets) != 0 || a.Groups[0].Status != "R" || strings.Join(a.Groups[0].Codes, ",") != "4" {
		t.Fatalf("group only: %+v %v", a, err)
	}
	for name, in := range map[string]string{
		"not a 999":          env("ST*277*0001*005010X214", "SE*2*0001"),
		"no set":             env(),
		"bad AK9":            env("ST*999*0001*005010X231A1", "AK1*HC*9*005010X222A1", "AK9*R*x*3*0", "SE*4*0001"),
		"negative AK9 count": env("ST*999*0001*005010X231A1", "AK1*HC*9*005010X222A1", "AK9*R*3*-3*0", "SE*4*0001"),
		"AK2 first":          env("ST*999*0001*005010X231A1", "AK2*837*1", "SE*3*0001"),
	} {
		if _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
