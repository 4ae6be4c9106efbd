package inbound837

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen837p"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// BenchmarkIngest837P runs the whole ingest of a generated 837P of 20,000
// claims into a fresh SQLite store, with levels 6 and 7 (the DHCS coding
// table and the invoice rules) and without, and the validator alone (what
// `calgw validate` runs) on the same file: the baseline of the target,
// the ingest at no less than half the validator's speed.
func BenchmarkIngest837P(b *testing.B) {
	var buf bytes.Buffer
	if _, err := (gen837p.Options{Claims: 20000}).WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	in := filepath.Join(b.TempDir(), "claims.837")
	if err := os.WriteFile(in, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Load("")
	if err != nil {
		b.Fatal(err)
	}
	rs, err := rules.Load(rules.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("validate", func(b *testing.B) {
		b.SetBytes(int64(buf.Len()))
		for i := 0; i < b.N; i++ {
			if _, err := ig.NewValidator(ig.Options{Sequential: true}).Validate(context.Background(), bytes.NewReader(buf.Bytes())); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, levels67 := range []bool{false, true} {
		name := "levels1-5"
		if levels67 {
			name = "levels1-7"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(buf.Len()))
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st, err := store.OpenSQLite(context.Background(), b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				job := ingest.Job{Files: []string{in}, OutDir: b.TempDir(), Store: st, Config: cfg,
					Now: func() time.Time { return time.Date(2026, 1, 16, 9, 30, 0, 0, time.UTC) }}
				if levels67 {
					job.Coding, job.Rules = rs.Coding, rs
				}
				b.StartTimer()
				r := Ingest(context.Background(), job)
				b.StopTimer()
				if r[0].Err != nil || r[0].Read != 20000 || r[0].Rejected != 0 {
					b.Fatalf("%+v", r[0])
				}
				st.Close()
				b.StartTimer()
			}
		})
	}
}
