package schemas_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/schemas"
)

// BenchmarkValidateMonthlyStream validates, record by record, a document
// of the valid file's records each repeated 1,000 times (12,000 records).
func BenchmarkValidateMonthlyStream(b *testing.B) {
	data, err := os.ReadFile("testdata/valid.json")
	if err != nil {
		b.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		b.Fatal(err)
	}
	records := 0
	for _, ds := range schemas.DataSets {
		arr := doc[ds].([]any)
		var more []any
		for i := range 1000 {
			for _, r := range arr {
				m := map[string]any{}
				for k, v := range r.(map[string]any) {
					m[k] = v
				}
				m["recordId"] = fmt.Sprintf("%v-%d", m["recordId"], i)
				more = append(more, m)
			}
		}
		doc[ds] = more
		records += len(more)
	}
	big, err := json.Marshal(doc)
	if err != nil {
		b.Fatal(err)
	}
	s, err := schemas.Embedded()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(big)))
	b.ResetTimer()
	for range b.N {
		n, err := s.ValidateMonthlyStream(bytes.NewReader(big), func(v schemas.Violation) { b.Fatal(v) })
		if err != nil || n != records {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkLoad compiles the embedded schemas.
func BenchmarkLoad(b *testing.B) {
	for range b.N {
		if _, err := schemas.Embedded(); err != nil {
			b.Fatal(err)
		}
	}
}
