package gen834_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
)

// The generated files must be valid 005010X220A1 in every shape the tests
// and benchmarks use: change and full files, several transaction sets, line
// breaks and other delimiters.
func TestGeneratedIsValid(t *testing.T) {
	for _, o := range []gen834.Options{
		{Members: 500, Seed: 1},
		{Members: 500, Seed: 2, Full: true},
		{Members: 500, Seed: 3, MembersPerSet: 120, CRLF: true},
		{Members: 50, Seed: 4, Newlines: true, Delimiters: x12.Delimiters{Element: '|', Repetition: '#', Component: '>', Segment: '\n'}},
	} {
		var b bytes.Buffer
		if _, err := o.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		var problems []string
		sum, err := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { problems = append(problems, f.String()) }}).Validate(context.Background(), &b)
		if err != nil {
			t.Fatal(err)
		}
		if !sum.OK() || len(problems) > 0 {
			t.Errorf("%+v: %d findings:\n%s", o, len(problems), strings.Join(problems[:min(20, len(problems))], "\n"))
		}
		if sum.Transactions == 0 {
			t.Errorf("%+v: no transaction set", o)
		}
	}
}
