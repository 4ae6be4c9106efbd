package enrollment

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// A span's aid codes are REF*RB's, then REF*CE's others, each once,
// whichever comes first (DHCS sends REF*CE*60;401;80;891 before REF*RB*60).
func TestSpanAidCodes(t *testing.T) {
	b, err := os.ReadFile("../../testdata/enrollment/family-change.834")
	if err != nil {
		t.Fatal(err)
	}
	base := strings.ReplaceAll(string(b), "\r\n", "")
	for _, tt := range []struct {
		name, refs string
		want       []string
	}{
		{"REF*RB first", "REF*RB*60~REF*CE*60;401;80;891~", []string{"60", "80"}},
		{"REF*CE first", "REF*CE*60;401;80;891~REF*RB*60~", []string{"60", "80"}},
		{"REF*CE first, primary second", "REF*CE*80;891;60;401~REF*RB*60~", []string{"60", "80"}},
		{"REF*RB not in REF*CE", "REF*CE*80;891~REF*RB*1H~", []string{"1H", "80"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := strings.Replace(base, "REF*RB*1H~REF*CE*1H;401;80;401~", tt.refs, 1)
			if in == base {
				t.Fatal("the first member's aid codes are not in the file")
			}
			ms, _ := mapAll(t, strings.NewReader(in))
			if ops := ms[0].Change.Ops; len(ops) != 1 || !reflect.DeepEqual(ops[0].Span.AidCodes, tt.want) {
				t.Errorf("ops %+v, want one span with aid codes %v", ops, tt.want)
			}
		})
	}
}
