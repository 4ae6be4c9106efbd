package adt

import (
	"bytes"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/genadt"
)

// BenchmarkProcess measures the intake of a generated batch into SQLite
// (members known), per message.
func BenchmarkProcess(b *testing.B) {
	const members = 1000
	var cins []string
	for i := range members {
		cins = append(cins, gen834.Options{}.CIN(i))
	}
	for b.Loop() {
		b.StopTimer()
		st := newStoreB(b, cins...)
		var buf bytes.Buffer
		genadt.Write(&buf, 20000, members, gen834.Options{})
		b.StartTimer()
		res, err := (&Processor{Store: st}).Process(ctx, FileSource("bench.hl7", &buf, time.Now()))
		if err != nil || res.Stored != 20000 {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(20000*b.N)/b.Elapsed().Seconds(), "msg/s")
}
