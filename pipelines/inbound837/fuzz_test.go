package inbound837

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen837p"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// FuzzEdit: whatever the bytes, Edit ends without a panic; when it ends
// without an error, every claim it counted was answered once, and when
// the input's envelopes are sound as well (our validator finds nothing
// wrong with an ISA, IEA, GS, GE or ST, nor an ST01 or ST02 missing,
// invalid or not supported, IK502 1, 6 and 7: an answer repeats their
// values, as the 999's AK2 must), the 999, the 277CA and the TA1 it wrote pass our own
// validator: with the default actions, and with a partner profile that
// warns on every edit or makes every edit reject only its claim.
func FuzzEdit(f *testing.F) {
	profiles := []snip.Profile{{}, everyEdit(f, "warn"), everyEdit(f, "reject_claim")}
	two, err := os.ReadFile("testdata/837p-two-claims.x12")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(two)
	f.Add(bytes.ReplaceAll(bytes.ReplaceAll(two, []byte("*"), []byte("|")), []byte("ENC1001"), []byte("ENC*1001")))
	f.Add(bytes.Replace(two, []byte("GE*1*101"), []byte("GE*2*101"), 1))
	f.Add(two[:len(two)/2])
	// Values the 277CA repeats, in error: a CLM01 longer than its TRN02
	// holds, a claim without a service date.
	f.Add(bytes.Replace(two, []byte("CLM*ENC1002*"), []byte("CLM*"+strings.Repeat("9", 51)+"*"), 1))
	f.Add(bytes.Replace(bytes.Replace(two, []byte("DTP*472*D8*20260109~"), nil, 1), []byte("SE*45*"), []byte("SE*44*"), 1))
	var small bytes.Buffer
	if _, err := (gen837p.Options{Claims: 5, PerSet: 2}).WriteTo(&small); err != nil {
		f.Fatal(err)
	}
	f.Add(small.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		sound := true
		if _, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) {
			sound = sound && f.Level != ig.LevelInterchange && f.Level != ig.LevelGroup &&
				f.Segment != "ST" && !(f.Level == ig.LevelTransaction && (f.Code == "1" || f.Code == "6" || f.Code == "7"))
		}}).Validate(context.Background(), bytes.NewReader(data)); err != nil {
			sound = false
		}
		for _, p := range profiles {
			a := newAnswers()
			answered := 0
			opts := a.options()
			opts.Profile = p
			opts.OnClaim = func(*Claim) error { answered++; return nil }
			sum, err := Edit(context.Background(), bytes.NewReader(data), opts)
			if err != nil {
				return
			}
			if answered != sum.Claims {
				t.Fatalf("profile %v: %d claims answered, the summary counts %d", p.Actions, answered, sum.Claims)
			}
			if !sound {
				continue
			}
			for name, out := range a.all() {
				if out != "" {
					if err := validAnswer(out); err != nil {
						t.Fatalf("profile %v: the %s %v\n%s", p.Actions, name, err, out)
					}
				}
			}
		}
	})
}

// everyEdit is a partner profile giving every edit action.
func everyEdit(tb testing.TB, action string) snip.Profile {
	tb.Helper()
	m := map[string]string{}
	for _, e := range snip.Edits() {
		m[e.ID] = action
	}
	p, err := snip.NewProfile(m)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// answers are the buffers of Edit's 999, 277CA and TA1.
type answers struct{ b999, b277, ta1 bytes.Buffer }

func newAnswers() *answers { return &answers{} }

// options are Edit's options writing every answer (a TA1 for each
// interchange) into a, at a fixed time, with a judge that rejects
// nothing.
func (a *answers) options() Options {
	clock := func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) }
	return Options{
		Ack999:  ack.New999(x12.NewWriter(&a.b999, x12.DefaultDelimiters), &numbers{}, ack.WithClock(clock)),
		Ack277:  NewWriter277(x12.NewWriter(&a.b277, x12.DefaultDelimiters), &numbers{n: 500}, Party{Name: "SUNRISE HEALTH PLAN", ID: "SHP001"}, clock),
		TA1:     x12.NewWriter(&a.ta1, x12.DefaultDelimiters),
		TA1Mode: TA1Always,
		Numbers: &numbers{n: 900},
		Now:     clock,
		Collect: true,
		Judge:   func([]*Claim) error { return nil },
	}
}

// all returns the answers by name.
func (a *answers) all() map[string]string {
	return map[string]string{"999": a.b999.String(), "277CA": a.b277.String(), "TA1": a.ta1.String()}
}

// validAnswer says why out fails our own validator (nil when it passes).
func validAnswer(out string) error {
	var findings []string
	_, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { findings = append(findings, f.String()) }}).
		Validate(context.Background(), strings.NewReader(out))
	if err == nil && len(findings) > 0 {
		err = fmt.Errorf("%d findings: %v", len(findings), findings)
	}
	if err != nil {
		return fmt.Errorf("fails our validator: %w", err)
	}
	return nil
}
