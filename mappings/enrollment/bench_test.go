package enrollment

import (
	"bytes"
	"io"
	"regexp"
	"sync"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

var bench834 = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	gen834.Options{Members: 100_000, Seed: 1}.WriteTo(&b)
	return b.Bytes()
})

// BenchmarkTokenize834 is the ceiling of a pass over an 834: the X12
// tokenizer alone.
func BenchmarkTokenize834(b *testing.B) {
	data := bench834()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rd := x12.NewReader(bytes.NewReader(data))
		for {
			if _, err := rd.Next(); err == io.EOF {
				break
			}
		}
	}
}

// BenchmarkMap834 is the data-level pass of `calgw validate` (and the
// mapping share of an ingest): tokenizer plus mapper.
func BenchmarkMap834(b *testing.B) {
	data := bench834()
	tab := rules.DefaultTables()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		p := New(Options{MemberID: regexp.MustCompile(rules.DefaultMemberIDPattern), County: tab.CountyCode})
		n := 0
		p.OnMember = func(m *Member) error { n++; return nil }
		rd := x12.NewReader(bytes.NewReader(data))
		for {
			seg, err := rd.Next()
			if err == io.EOF {
				break
			}
			p.Segment(seg)
		}
		p.Flush()
		if n != 100_000 {
			b.Fatal(n)
		}
	}
}
