package ig_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

func ExampleValidator_Validate() {
	in, err := os.ReadFile("../../../testdata/x12/837p-clean.x12")
	if err != nil {
		panic(err)
	}
	// Break one claim: its total no longer matches its service lines.
	in = []byte(strings.Replace(string(in), "CLM*ENC1001*300*", "CLM*ENC1001*310*", 1))

	v := ig.NewValidator(ig.Options{
		// Findings carry their position and acknowledgment code. Msg never
		// holds data values; f.Value may, so it is not printed.
		OnFinding: func(f *ig.Finding) { fmt.Println(f) },
		OnTransaction: func(t *ig.TransactionResult) error {
			fmt.Printf("ST %s %s: %s %v\n", t.SetID, t.Control, t.Status, t.Codes)
			return nil
		},
	})
	sum, err := v.Validate(context.Background(), strings.NewReader(string(in)))
	fmt.Println(sum.Transactions, sum.Rejected, err)
	// Output:
	// segment 22 (line 22, byte 746) loop 2300 CLM02: CLM02 (Total Claim Charge Amount) is 310.00 but the service lines (SV102) add up to 300.00 [IK403 I12]
	// ST 837 0001: rejected [I5]
	// 1 1 <nil>
}
