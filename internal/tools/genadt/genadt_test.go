package genadt

import (
	"bytes"
	"io"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/mappings/adt"
)

// The generated file reads back as n sound ADT messages whose CINs are
// gen834's.
func TestWriteReadsBack(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, 8, 3, gen834.Options{}); err != nil {
		t.Fatal(err)
	}
	rd := hl7.NewReader(&buf)
	n := 0
	for {
		m, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if errs := hl7.Check(m); len(errs) > 0 {
			t.Fatal(errs)
		}
		ev, errs := adt.Map(m, adt.DefaultProfile())
		if len(errs) > 0 || ev.CIN != (gen834.Options{}).CIN(n%3) {
			t.Fatalf("message %d: %+v %v", n, ev, errs)
		}
		n++
	}
	if n != 8 {
		t.Errorf("%d messages", n)
	}
}
