package gen837p

import (
	"bytes"
	"context"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// The generated file passes the 005010X222A1 validator: the benchmark
// measures the edit of a clean file, not of error reporting.
func TestGeneratedFileValidates(t *testing.T) {
	var buf bytes.Buffer
	if _, err := (Options{Claims: 2500, PerSet: 1000}).WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	v := ig.NewValidator(ig.Options{OnFinding: func(f *ig.Finding) { t.Errorf("finding: %s", f.String()) }})
	sum, err := v.Validate(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Transactions != 3 {
		t.Errorf("%d transaction sets, want 3", sum.Transactions)
	}
}
