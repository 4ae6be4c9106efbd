package inbound837

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// bigFile repeats the test file's second subscriber and claim n times, in
// transaction sets of at most 1000 claims (the guide recommends no more
// than 5000 per set) in one group of one interchange.
func bigFile(b *testing.B, n int) []byte {
	raw, err := os.ReadFile("testdata/837p-two-claims.x12")
	if err != nil {
		b.Fatal(err)
	}
	s := string(raw)
	i, j := strings.Index(s, "HL*3*1*22*0"), strings.Index(s, "SE*45*0001")
	block := s[i:j]
	st := strings.Index(s, "ST*837*0001")
	header := s[st:i]
	var buf bytes.Buffer
	buf.WriteString(s[:st])
	per := strings.Count(block, "~")
	sets := 0
	for k := 0; k < n; {
		sets++
		ctl := fmt.Sprintf("%04d", sets)
		buf.WriteString(strings.Replace(header, "ST*837*0001", "ST*837*"+ctl, 1))
		segs := strings.Count(header, "~") + 1
		for m := 0; m < 1000 && k < n; m, k = m+1, k+1 {
			hl := strconv.Itoa(3 + m)
			buf.WriteString(strings.Replace(strings.Replace(block, "HL*3*1*22*0", "HL*"+hl+"*1*22*0", 1), "ENC1002", "E"+strconv.Itoa(k), 2))
			segs += per
		}
		buf.WriteString("SE*" + strconv.Itoa(segs) + "*" + ctl + "~")
	}
	buf.WriteString("GE*" + strconv.Itoa(sets) + "*101~" + s[strings.Index(s, "IEA*"):])
	return buf.Bytes()
}

// BenchmarkInbound837P compares, on the same file in the same run, a byte
// scan (counting segment terminators), the validator alone (what `calgw
// validate` runs) and the full edit with 999 and 277CA. The target: the
// edit at no less than half the validator's speed.
func BenchmarkInbound837P(b *testing.B) {
	data := bigFile(b, 20000)
	ctx := context.Background()
	b.Run("bytescan", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			if bytes.Count(data, []byte{'~'}) == 0 {
				b.Fatal("no segments")
			}
		}
	})
	b.Run("validate", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for i := 0; i < b.N; i++ {
			if _, err := ig.NewValidator(ig.Options{Sequential: true}).Validate(ctx, bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("edit+ack", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		var out999, out277 bytes.Buffer
		for i := 0; i < b.N; i++ {
			out999.Reset()
			out277.Reset()
			now := func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) }
			sum, err := Edit(ctx, bytes.NewReader(data), Options{
				Ack999: ack.New999(x12.NewWriter(&out999, x12.DefaultDelimiters), &numbers{}, ack.WithClock(now)),
				Ack277: NewWriter277(x12.NewWriter(&out277, x12.DefaultDelimiters), &numbers{}, Party{Name: "PLAN", ID: "1"}, now),
			})
			if err != nil || sum.Claims != 20*1001 || sum.SetsRejected != 0 {
				b.Fatal(err, sum)
			}
		}
	})
}
