package x277ca

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// FuzzReadResponse checks, for any input, that ReadResponse does not
// panic; that it returns a response or an error, never both nor neither;
// that an error is the X12 reader's *SyntaxError or one of its own naming
// the segment and line (or the missing 277); that it reads the same
// whatever the read sizes; that the claims come in the input's order with
// the line and segment number of their TRN; that each claim's category is
// the start of its status; and that the batches count no more claims than
// the file holds, each count a number of claims or -1 when absent.
func FuzzReadResponse(f *testing.F) {
	for _, name := range []string{"../../../testdata/dhcs/PLAN_305_837P_MCE_20261123_00001_RESP_277.dat", "../../../testdata/x12/277ca-clean.x12"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	base := "ISA*00*          *00*          *30*CALIFORNIA-DHCS*ZZ*951234567305   *210520*0830*^*00501*000000901*0*P*:~" +
		"GS*HN*CALIFORNIA-DHCS*951234567305*20210520*0830*901*X*005010X214~ST*277*0001*005010X214~HL*1**20*1~HL*2*1*21*1~TRN*2*BATCH-1~"
	f.Add([]byte(base + "QTY*90*many~SE*5*0001~GE*1*901~IEA*1*000000901~"))
	f.Add([]byte(base + "QTY*90*-3~QTY*AA*2~HL*4*3*PT~TRN*2*C1~STC*:20~STC*F2~REF*1K*1~TRN*2*C2~SE*5*0001~GE*1*901~IEA*1*000000901~"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadResponse(bytes.NewReader(data))
		if (r == nil) == (err == nil) {
			t.Fatalf("response %+v and error %v", r, err)
		}
		r2, err2 := ReadResponse(iotest.OneByteReader(bytes.NewReader(data)))
		if fmt.Sprintf("%+v %v", r, err) != fmt.Sprintf("%+v %v", r2, err2) {
			t.Fatalf("one byte at a time: %+v %v\nwhole: %+v %v", r2, err2, r, err)
		}
		if err != nil {
			var se *x12.SyntaxError
			if msg := err.Error(); !errors.As(err, &se) && !(strings.HasPrefix(msg, "x277ca: segment ") && strings.Contains(msg, "(line ")) && msg != "x277ca: no 277 transaction set" {
				t.Fatalf("error %q names no segment and line", msg)
			}
			return
		}
		lines := int64(bytes.Count(data, []byte("\n")) + 1)
		var prev Claim
		for _, c := range r.Claims {
			if c.Line < max(prev.Line, 1) || c.Line > lines || c.Ordinal <= prev.Ordinal {
				t.Fatalf("claim at line %d, segment %d, after line %d, segment %d (%d lines)", c.Line, c.Ordinal, prev.Line, prev.Ordinal, lines)
			}
			if !strings.HasPrefix(c.Status, c.Category()) || c.Accepted() != strings.HasPrefix(c.Category(), "F1") {
				t.Fatalf("claim status %q, category %q", c.Status, c.Category())
			}
			prev = c
		}
		claims := 0
		for _, b := range r.Batches {
			claims += b.Claims
			if b.Accepted < -1 || b.Rejected < -1 {
				t.Fatalf("batch at line %d counts %d accepted, %d rejected", b.Line, b.Accepted, b.Rejected)
			}
		}
		if claims > len(r.Claims) {
			t.Fatalf("the batches count %d claims, the file holds %d", claims, len(r.Claims))
		}
	})
}
