package ig_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
)

// seenCheck is a SplitCheck that records the segments it sees, to
// compare a split validation's checks with a single pass's.
type seenCheck struct {
	log   *[]seenSeg
	limit int // Full after this many segments in a fork
}

type seenSeg struct {
	pos ig.Pos
	raw string // "end" for End
}

func (c *seenCheck) Segment(t *ig.Txn, seg *x12.Segment) {
	raw, _ := seg.Raw()
	*c.log = append(*c.log, seenSeg{t.Pos(), string(raw)})
}

func (c *seenCheck) End(t *ig.Txn) { *c.log = append(*c.log, seenSeg{t.Pos(), "end"}) }

func (c *seenCheck) Fork() ig.SplitCheck { return &seenCheck{log: new([]seenSeg), limit: c.limit} }

func (c *seenCheck) Full() bool { return c.limit > 0 && len(*c.log) >= c.limit }

func (c *seenCheck) Join(part ig.SplitCheck, s ig.Shift) error {
	for _, e := range *part.(*seenCheck).log {
		e.pos = s.Pos(e.pos)
		*c.log = append(*c.log, e)
	}
	return nil
}

// splitTrace validates data, whole or split, and records what the
// callbacks and the check see and the summary.
func splitTrace(t *testing.T, data []byte, split bool, parts int, checkLimit int) ([]string, int) {
	t.Helper()
	var out []string
	seen := new([]seenSeg)
	reg := ig.Default().Clone()
	if err := reg.Register(ig.Spec834, func() ig.Check { return &seenCheck{log: seen, limit: checkLimit} }); err != nil {
		t.Fatal(err)
	}
	o := ig.Options{
		Registry:    reg,
		Sequential:  true,
		MaxFindings: 50,
		OnFinding:   func(f *ig.Finding) { out = append(out, fmt.Sprintf("finding %s %+v", f, f.Pos)) },
		OnTransaction: func(r *ig.TransactionResult) error {
			out = append(out, fmt.Sprintf("set %s %s %v %v segments %d findings %d dropped %d", r.SetID, r.Control, r.Status, r.Codes, r.Segments, len(r.Findings), r.Dropped))
			for _, f := range r.Findings {
				out = append(out, fmt.Sprintf("  kept %s %+v", &f, f.Pos))
			}
			return nil
		},
		OnGroup: func(g *ig.GroupResult) error {
			out = append(out, fmt.Sprintf("group %v %v", g.Status, g.Codes))
			return nil
		},
		OnInterchange: func(i *ig.InterchangeResult) error {
			out = append(out, fmt.Sprintf("interchange %v", i.Status))
			return nil
		},
	}
	var sum ig.Summary
	var err error
	if split {
		o = ig.Split(o, parts, 256)
		sum, err = ig.NewValidator(o).ValidateAt(context.Background(), bytes.NewReader(data), int64(len(data)))
	} else {
		sum, err = ig.NewValidator(o).Validate(context.Background(), bytes.NewReader(data))
	}
	n := sum.Parts
	sum.Parts = 0
	out = append(out, fmt.Sprintf("summary %+v err %v", sum, err))
	for _, e := range *seen {
		out = append(out, fmt.Sprintf("check %+v %q", e.pos, e.raw))
	}
	return out, n
}

func gen834Bytes(t testing.TB, o gen834.Options) []byte {
	var b bytes.Buffer
	if _, err := o.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// mutate damages data in n places, the ways real files go wrong: a segment
// lost, repeated, unknown or with a bad value, a transaction set or group
// ended in the middle, line breaks, indentation, a cut.
func mutate(data []byte, rng *rand.Rand, n int) []byte {
	segs := strings.SplitAfter(string(data), "~")
	for range n {
		k := 2 + rng.IntN(len(segs)-3)
		switch rng.IntN(10) {
		case 0:
			segs = append(segs[:k], segs[k+1:]...)
		case 1:
			segs = append(segs[:k+1], segs[k:]...)
		case 2:
			segs[k] = "ZZZ*1~" + segs[k]
		case 3:
			if s := segs[k]; len(s) > 5 {
				i := 4 + rng.IntN(len(s)-5)
				segs[k] = s[:i] + "\x01" + s[i+1:]
			}
		case 4:
			segs[k] = "SE*7*0001~ST*834*0099*005010X220A1~BGN*00*X*20250101*1200****2~" + segs[k]
		case 5:
			segs[k] += "\r\n"
		case 6:
			segs[k] = "GE*1*1~" + segs[k]
		case 7:
			segs[k] = "INS*Y*18*030*XN*A*E**FT~" + segs[k]
		case 8:
			segs[k] = "REF*0F*" + strings.Repeat("9", 60) + "~" + segs[k]
		case 9:
			segs[k] += "\n \t"
		}
	}
	out := strings.Join(segs, "")
	if rng.IntN(8) == 0 {
		out = out[:len(out)-rng.IntN(len(out)/3)]
	}
	return []byte(out)
}

// TestValidateAtSameAsValidate compares split validations of 834s, clean
// and damaged, with single passes: findings (with positions), results,
// the checks' segments and the summaries must be the same. Clean files
// must be split for real.
func TestValidateAtSameAsValidate(t *testing.T) {
	type input struct {
		name  string
		data  []byte
		clean bool
	}
	inputs := []input{
		{"clean", gen834Bytes(t, gen834.Options{Members: 300, Seed: 3}), true},
		{"CRLF", gen834Bytes(t, gen834.Options{Members: 200, Seed: 4, CRLF: true}), true},
		{"LF terminator", gen834Bytes(t, gen834.Options{Members: 200, Seed: 5, Delimiters: x12.Delimiters{Element: '|', Component: '^', Repetition: '!', Segment: '\n'}}), true},
		{"sets of 40", gen834Bytes(t, gen834.Options{Members: 300, Seed: 6, MembersPerSet: 40}), false},
		{"indented", bytes.ReplaceAll(gen834Bytes(t, gen834.Options{Members: 200, Seed: 8, CRLF: true}), []byte("\r\n"), []byte("\r\n  ")), true},
	}
	// Indented from the middle on: the first indented segment is in a part.
	half := gen834Bytes(t, gen834.Options{Members: 300, Seed: 9})
	half = append(half[:len(half)/2:len(half)/2], bytes.ReplaceAll(half[len(half)/2:], []byte("~"), []byte("~\n\t"))...)
	inputs = append(inputs, input{"indented from the middle", half, true})
	base := gen834Bytes(t, gen834.Options{Members: 300, Seed: 7})
	for seed := range 80 {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		inputs = append(inputs, input{name: fmt.Sprintf("damaged %d", seed), data: mutate(base, rng, 1+rng.IntN(4))})
	}
	// The damaged inputs are the same on every run (fixed seeds); 58 of
	// them are split into parts, the others are validated in one part. Fewer
	// means splitting gave up on inputs where it did not
	// need to.
	const minDamagedSplit = 55
	damagedJoined := 0
	defer func() {
		t.Logf("damaged inputs split: %d of 80", damagedJoined)
		if damagedJoined < minDamagedSplit {
			t.Errorf("only %d of 80 damaged inputs were split into parts, want at least %d", damagedJoined, minDamagedSplit)
		}
	}()
	for _, in := range inputs {
		want, _ := splitTrace(t, in.data, false, 0, 0)
		for _, c := range []struct{ parts, limit int }{{2, 0}, {3, 0}, {5, 40}} {
			got, n := splitTrace(t, in.data, true, c.parts, c.limit)
			if c.parts == 2 && !in.clean && n > 1 {
				damagedJoined++
			}
			if in.clean && n != c.parts {
				t.Errorf("%s: validated in %d parts, want %d", in.name, n, c.parts)
			}
			if len(got) != len(want) {
				t.Errorf("%s, %d parts: %d entries, want %d\n got %.400q\nwant %.400q", in.name, c.parts, len(got), len(want), got[0], want[0])
			}
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Errorf("%s, %d parts: entry %d\n got %.400s\nwant %.400s", in.name, c.parts, i, got[i], want[i])
					break
				}
			}
		}
	}
}

// idsCheck records the IDs of the segments it is shown.
type idsCheck struct{ ids *[]string }

func (c idsCheck) Segment(_ *ig.Txn, seg *x12.Segment) { *c.ids = append(*c.ids, string(seg.ID())) }
func (c idsCheck) End(*ig.Txn)                         {}
func (c idsCheck) SegmentIDs() []string                { return []string{"CLM", "SV1"} }

// A check's factory is called when a set of its spec starts, not before
// (an 834 check made for an 837P file would report on it), and a
// SegmentFilter is shown only the segments it names.
func TestCheckFactoryAndFilter(t *testing.T) {
	data, err := os.ReadFile("../../../testdata/x12/837p-clean.x12")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	made := map[string]int{}
	reg := ig.Default().Clone()
	if err := reg.Register(ig.Spec834, func() ig.Check { made["834"]++; return idsCheck{&ids} }); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(ig.Spec837P, func() ig.Check { made["837"]++; return idsCheck{&ids} }); err != nil {
		t.Fatal(err)
	}
	sum, err := ig.NewValidator(ig.Options{Registry: reg}).Validate(context.Background(), bytes.NewReader(data))
	if err != nil || !sum.OK() {
		t.Fatalf("%+v %v", sum, err)
	}
	if made["834"] != 0 || made["837"] != sum.Transactions {
		t.Errorf("checks made: %v for %d 837 sets", made, sum.Transactions)
	}
	if strings.Count(strings.Join(ids, " "), "CLM") == 0 || slices.ContainsFunc(ids, func(id string) bool { return id != "CLM" && id != "SV1" }) {
		t.Errorf("the check was shown %v", ids)
	}
}
