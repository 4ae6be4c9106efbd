package ack_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// counter hands out control numbers from a start, as a store would.
type counter struct{ isa, gs, st int64 }

func (c *counter) NextInterchange() (int64, error) { c.isa++; return c.isa, nil }
func (c *counter) NextGroup() (int64, error)       { c.gs++; return c.gs, nil }
func (c *counter) NextTransaction() (int64, error) { c.st++; return c.st, nil }

var clock = func() time.Time { return time.Date(2026, 1, 16, 8, 30, 0, 0, time.UTC) }

func clean837P(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/x12/837p-clean.x12")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// acknowledge validates in and returns the acknowledgment segments, one
// string per segment (elements joined with "*").
func acknowledge(t *testing.T, in string, opts ...ack.Option) []string {
	t.Helper()
	var out bytes.Buffer
	a := ack.New999(x12.NewWriter(&out, x12.DefaultDelimiters), &counter{isa: 500, gs: 700, st: 0}, append([]ack.Option{ack.WithClock(clock)}, opts...)...)
	var vo ig.Options
	a.Attach(&vo)
	if _, err := ig.NewValidator(vo).Validate(context.Background(), strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if a.Err() != nil {
		t.Fatal(a.Err())
	}
	return segments(t, out.Bytes())
}

func segments(t *testing.T, b []byte) []string {
	t.Helper()
	rd := x12.NewReader(bytes.NewReader(b))
	var out []string
	for {
		s, err := rd.Next()
		if err != nil {
			break
		}
		out = append(out, string(s.Bytes()))
	}
	return out
}

// validates999 checks the acknowledgment against the 999 table itself.
func validates999(t *testing.T, segs []string) {
	t.Helper()
	var fs []string
	sum, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { fs = append(fs, f.String()) }}).
		Validate(context.Background(), strings.NewReader(strings.Join(segs, "~")+"~"))
	if err != nil || len(fs) > 0 || sum.Accepted == 0 {
		t.Fatalf("the 999 does not validate: %v %q %+v", err, fs, sum)
	}
}

func TestAccepted(t *testing.T) {
	got := acknowledge(t, strings.Join(clean837P(t), "\n"))
	want := []string{
		"ISA*00*          *00*          *ZZ*DHCSENC        *ZZ*CALAIMGW       *260116*0830*^*00501*000000501*0*T*:",
		"GS*FA*DHCSENC*CALAIMGW*20260116*0830*701*X*005010X231A1",
		"ST*999*0001*005010X231A1",
		"AK1*HC*101*005010X222A1",
		"AK2*837*0001*005010X222A1",
		"IK5*A",
		"AK9*A*1*1*1",
		"SE*6*0001",
		"GE*1*701",
		"IEA*1*000000501",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	validates999(t, got)
}

func TestRejected(t *testing.T) {
	ls := clean837P(t)
	ls[16] = "NM1*IL*3*RIVERA*ANA*M***MI*91234567A~"                  // NM102 not a valid code
	ls = slices.Delete(ls, 11, 12)                                    // 2010AA N4 missing
	ls[45] = "SE*44*0001~"                                            // count after the deletion
	ls = slices.Insert(ls, 20, "CLM*ENC1001*300***11:B:1:9*Y*A*Y*Y~") // a second CLM, with a bad composite
	ls = slices.Delete(ls, 21, 22)
	got := acknowledge(t, strings.Join(ls, "\n"))
	body := got[slices.Index(got, "AK2*837*0001*005010X222A1"):slices.Index(got, "AK9*R*1*1*0")]
	want := []string{
		"AK2*837*0001*005010X222A1",
		"IK3*N4*10*2010AA*3",
		"IK3*NM1*14*2010BA*8",
		"IK4*2*1065*7*3",
		"IK3*CLM*19*2300*8",
		"IK4*5:4**13*9",
		"IK5*R*5",
	}
	if !slices.Equal(body, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(body, "\n"), strings.Join(want, "\n"))
	}
	validates999(t, got)
	// Without values, IK404 is left out.
	got = acknowledge(t, strings.Join(ls, "\n"), ack.WithoutValues())
	if !slices.Contains(got, "IK4*2*1065*7") || !slices.Contains(got, "IK4*5:4**13") {
		t.Errorf("IK404 written: %q", got)
	}
}

func TestPartiallyAccepted(t *testing.T) {
	ls := clean837P(t)
	set := ls[2:47]
	bad := slices.Clone(set)
	bad[0], bad[len(bad)-1] = "ST*837*0002*005010X222A1~", "SE*45*0002~"
	bad[2] = "NM1*41*2*SUNRISE HEALTH PLAN*****46*SHP001*X~" // NM110 is not used
	in := slices.Concat(ls[:2], set, bad, []string{"GE*2*101~", ls[48]})
	got := acknowledge(t, strings.Join(in, "\n"))
	for _, w := range []string{"AK2*837*0001*005010X222A1", "IK5*A", "AK2*837*0002*005010X222A1", "IK3*NM1*3*1000A*8", "IK4*10*706*I10*X", "IK5*R*I5", "AK9*P*2*2*1"} {
		if !slices.Contains(got, w) {
			t.Errorf("no %q in\n%s", w, strings.Join(got, "\n"))
		}
	}
	validates999(t, got)
}

// Each received group gets its own 999 in the acknowledgment interchange;
// an unsupported group is rejected with AK905.
func TestGroups(t *testing.T) {
	ls := clean837P(t)
	second := slices.Clone(ls[1:48])
	second[0] = "GS*HC*CALAIMGW*DHCSENC*20260115*1200*102*X*005010X223A2~"
	second[len(second)-1] = "GE*1*102~"
	in := slices.Concat(ls[:48], second, []string{"IEA*2*000000101~"})
	got := acknowledge(t, strings.Join(in, "\n"))
	want := []string{
		"ST*999*0001*005010X231A1", "AK1*HC*101*005010X222A1", "AK2*837*0001*005010X222A1", "IK5*A", "AK9*A*1*1*1", "SE*6*0001",
		"ST*999*0002*005010X231A1", "AK1*HC*102*005010X223A2", "AK2*837*0001*005010X222A1", "IK5*R*1", "AK9*R*1*1*0*2", "SE*6*0002",
		"GE*2*701",
	}
	if !slices.Equal(got[2:15], want) {
		t.Fatalf("got\n%s", strings.Join(got, "\n"))
	}
	validates999(t, got)
}

func TestIK404NeverHoldsADelimiter(t *testing.T) {
	// Input with | separators: an element value may hold '*', the
	// acknowledgment's element separator.
	ls := clean837P(t)
	ls[16] = "NM1*IL*1*RIVERA*ANA*M***MI*91234567A*+~" // NM110 not used, value "+"
	in := strings.NewReplacer("*", "|", "+", "*").Replace(strings.Join(ls, "\n"))
	got := acknowledge(t, in)
	if !slices.Contains(got, "IK4*10*706*I10") {
		t.Fatalf("got\n%s", strings.Join(got, "\n"))
	}
	validates999(t, got)
}

func TestTA1(t *testing.T) {
	ls := clean837P(t)
	ls[0] = "ISA*00*          *00*          *ZZ*CALAIMGW      *ZZ*DHCSENC        *260115*1200*^*00501*000000101*1*T*:~"
	got := acknowledge(t, strings.Join(ls, "\n"), ack.WithTA1())
	ta1 := got[len(got)-3:]
	want := []string{
		"ISA*00*          *00*          *ZZ*DHCSENC        *ZZ*CALAIMGW       *260116*0830*^*00501*000000502*0*T*:",
		"TA1*000000101*260115*1200*R*006",
		"IEA*0*000000502",
	}
	if !slices.Equal(ta1, want) {
		t.Fatalf("got\n%s", strings.Join(got, "\n"))
	}
}

type failing struct{ counter }

func (failing) NextTransaction() (int64, error) { return 0, errors.New("store down") }

func TestControlNumberError(t *testing.T) {
	var out bytes.Buffer
	a := ack.New999(x12.NewWriter(&out, x12.DefaultDelimiters), &failing{})
	var vo ig.Options
	a.Attach(&vo)
	_, err := ig.NewValidator(vo).Validate(context.Background(), strings.NewReader(strings.Join(clean837P(t), "\n")))
	if err == nil || !strings.Contains(err.Error(), "store down") || a.Err() == nil {
		t.Fatalf("err %v / %v", err, a.Err())
	}
}

// Warnings do not reject: a pretty-printed 837P with a byte order mark and
// a 999 labelled 005010X231 are acknowledged as accepted (IK5 A, AK9 A,
// TA1 A), like their plain versions.
func TestWarningsAreNotRejections(t *testing.T) {
	for _, tt := range []struct {
		file    string
		wantAK2 string
	}{
		{"837p-indented-bom.x12", "AK2*837*0001*005010X222A1"},
		{"999-x231.x12", "AK2*999*0001*005010X231"},
	} {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("../../../testdata/x12/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got := acknowledge(t, string(b), ack.WithTA1())
			var ak2, ik5, ak9, ta1 string
			for _, s := range got {
				switch {
				case strings.HasPrefix(s, "AK2*"):
					ak2 = s
				case strings.HasPrefix(s, "IK5*"):
					ik5 = s
				case strings.HasPrefix(s, "AK9*"):
					ak9 = s
				case strings.HasPrefix(s, "TA1*"):
					ta1 = s
				case strings.HasPrefix(s, "IK3*"), strings.HasPrefix(s, "IK4*"):
					t.Errorf("the acknowledgment reports %s", s)
				}
			}
			if ak2 != tt.wantAK2 || ik5 != "IK5*A" || ak9 != "AK9*A*1*1*1" || (ta1 != "" && !strings.Contains(ta1, "*A*000")) {
				t.Errorf("got %q %q %q %q", ak2, ik5, ak9, ta1)
			}
		})
	}
}

// TestCTXBusinessUnit: a finding naming its business unit gets a CTX
// after each of its IK3s (segment code and element code 8); one whose
// identifier holds a delimiter or is longer than CTX01-2's 35 characters
// gets none.
func TestCTXBusinessUnit(t *testing.T) {
	for _, tt := range []struct {
		ref  string
		want int
	}{{"ENC1001", 2}, {"ENC*1001", 0}, {"ENC:1001", 0}, {strings.Repeat("9", 35), 2}, {strings.Repeat("9", 36), 0}} {
		var out bytes.Buffer
		a := ack.New999(x12.NewWriter(&out, x12.DefaultDelimiters), &counter{}, ack.WithClock(clock))
		g := &ig.GroupInfo{FunctionalID: "HC", SenderCode: "S", ReceiverCode: "R", Control: "1", Version: "005010X222A1"}
		at := ig.Pos{SetPos: 30, Segment: "DTP", Loop: "2400"}
		tr := &ig.TransactionResult{Group: g, SetID: "837", Control: "0001", Status: ig.Rejected, Codes: []string{"5"}, Findings: []ig.Finding{
			{Pos: at, Level: ig.LevelSegment, Code: "8", UnitName: "CLM01", UnitRef: tt.ref},
			{Pos: at, Level: ig.LevelElement, Code: "8", Element: 3, UnitName: "CLM01", UnitRef: tt.ref},
		}}
		a.InterchangeStart(&ig.InterchangeInfo{SenderQualifier: "ZZ", SenderID: "S", ReceiverQualifier: "ZZ", ReceiverID: "R", Usage: "T"})
		if err := a.Transaction(tr); err != nil {
			t.Fatal(err)
		}
		flush(t, a, g)
		if got := strings.Count(out.String(), "CTX*CLM01:"); got != tt.want {
			t.Errorf("CLM01 %q: %d CTX, want %d", tt.ref, got, tt.want)
		}
	}
}

func flush(t *testing.T, a *ack.Writer999, g *ig.GroupInfo) {
	t.Helper()
	if err := a.Group(&ig.GroupResult{GroupInfo: *g, Status: ig.Rejected, Included: 1, Received: 1}); err != nil {
		t.Fatal(err)
	}
	if err := a.Interchange(&ig.InterchangeResult{}); err != nil {
		t.Fatal(err)
	}
}

// A TA1 answers an ISA whose ID qualifiers are not the guide's codes
// (blank, or unknown) from and to ZZ, so that it passes our own
// validator; a qualifier that is one of the codes is kept.
func TestTA1ReplyQualifiers(t *testing.T) {
	for _, tt := range []struct{ sender, receiver, wantSender, wantReceiver string }{
		{"", "", "ZZ", "ZZ"},
		{"X1", "30", "30", "ZZ"},
		{"01", "ZZ", "ZZ", "01"},
	} {
		var b bytes.Buffer
		w := x12.NewWriter(&b, x12.DefaultDelimiters)
		ir := &ig.InterchangeResult{InterchangeInfo: ig.InterchangeInfo{SenderQualifier: tt.sender, SenderID: "PROVIDER",
			ReceiverQualifier: tt.receiver, ReceiverID: "PLAN", Control: "000000101", Date: "260115", Time: "1200", Usage: "T"},
			Status: ig.Rejected, Note: "005"}
		if err := ack.WriteTA1(w, ir, 7, clock()); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		isa := strings.Split(b.String(), "*")
		if isa[5] != tt.wantSender || isa[7] != tt.wantReceiver {
			t.Errorf("qualifiers %q/%q: the TA1's ISA05/ISA07 are %q/%q, want %q/%q", tt.sender, tt.receiver, isa[5], isa[7], tt.wantSender, tt.wantReceiver)
		}
		var findings []string
		if _, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { findings = append(findings, f.String()) }}).
			Validate(context.Background(), &b); err != nil || len(findings) > 0 {
			t.Errorf("qualifiers %q/%q: the TA1 fails our validator: %v %v", tt.sender, tt.receiver, err, findings)
		}
	}
}

// With WithSendersDelimiters the 999 and TA1 of an interchange use its
// own separators, and those of the next interchange its own; without it,
// the Writer's.
func TestSendersDelimiters(t *testing.T) {
	ls := clean837P(t)
	ls[0] = strings.Replace(ls[0], "*00501*000000101*0*", "*00501*000000101*1*", 1) // asks for a TA1
	star := strings.Join(ls, "\n")
	pipes := strings.NewReplacer("*", "|", "000000101", "000000102").Replace(star)
	for _, senders := range []bool{true, false} {
		var out bytes.Buffer
		opts := []ack.Option{ack.WithClock(clock), ack.WithTA1()}
		if senders {
			opts = append(opts, ack.WithSendersDelimiters())
		}
		a := ack.New999(x12.NewWriter(&out, x12.DefaultDelimiters), &counter{isa: 500, gs: 700}, opts...)
		var vo ig.Options
		a.Attach(&vo)
		if _, err := ig.NewValidator(vo).Validate(context.Background(), strings.NewReader(pipes+"\n"+star)); err != nil || a.Err() != nil {
			t.Fatal(err, a.Err())
		}
		isas := strings.Split(out.String(), "ISA")[1:]
		want := []string{"|", "|", "*", "*"} // the 999 and TA1 of each input interchange
		if !senders {
			want = []string{"*", "*", "*", "*"}
		}
		if len(isas) != len(want) {
			t.Fatalf("senders %v: %d interchanges, want %d:\n%s", senders, len(isas), len(want), out.String())
		}
		for k, sep := range want {
			if !strings.HasPrefix(isas[k], sep+"00"+sep) {
				t.Errorf("senders %v, interchange %d: ISA%s…, want %q as its element separator", senders, k+1, isas[k][:4], sep)
			}
		}
		var fs []string
		if _, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { fs = append(fs, f.String()) }}).
			Validate(context.Background(), &out); err != nil || len(fs) > 0 {
			t.Errorf("senders %v: the acknowledgments fail our validator: %v %q", senders, err, fs)
		}
	}
}

// TestEchoedValuesHoldingTheWritersSeparators: a value the 999 repeats
// (ST02 in AK202, GS02 in its GS03, ISA06 in its ISA08) may hold the
// 999's separators when they are not the input's (here the input
// separates elements with | and has no repetition separator); such a byte
// is written as a space, and the 999 is written and valid, not failed.
func TestEchoedValuesHoldingTheWritersSeparators(t *testing.T) {
	cases := []struct {
		name     string
		from, to string
		want     string // a segment of the 999
	}{
		{"ST02 *", "ST|837|0001|", "ST|837|01*1|", "AK2*837*01 1*005010X222A1"},
		{"ST02 ^", "ST|837|0001|", "ST|837|01^1|", "AK2*837*01 1*005010X222A1"},
		{"ST02 :", "ST|837|0001|", "ST|837|01:1|", "AK2*837*01 1*005010X222A1"},
		{"GS02 *", "GS|HC|CALAIMGW|", "GS|HC|CALAIM*GW|", "GS*FA*DHCSENC*CALAIM GW*20260116*0830*701*X*005010X231A1"},
		{"ISA06 *", "|ZZ|CALAIMGW       |", "|ZZ|CALAIM*GW      |", "ISA*00*          *00*          *ZZ*DHCSENC        *ZZ*CALAIM GW      *260116*0830*^*00501*000000501*0*T*:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := strings.NewReplacer("*", "|", "|^|00501|", "|U|00501|").Replace(strings.Join(clean837P(t), "\n"))
			if !strings.Contains(in, c.from) {
				t.Fatalf("%q not in the input", c.from)
			}
			in = strings.Replace(in, c.from, c.to, 1)
			if strings.HasPrefix(c.to, "ST") {
				in = strings.Replace(in, "SE|45|0001~", "SE|45|"+strings.Split(c.to, "|")[2]+"~", 1)
			}
			segs := acknowledge(t, in)
			validates999(t, segs)
			if !slices.Contains(segs, c.want) {
				t.Errorf("no %s:\n%s", c.want, strings.Join(segs, "\n"))
			}
		})
	}
}
