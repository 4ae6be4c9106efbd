package eligibility

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// BenchmarkJudge measures the rules per invoice line (one member lookup
// per line: consecutive lines are different members) with 10,000 and
// 200,000 members enrolled: the cost must not grow with the members.
func BenchmarkJudge(b *testing.B) {
	for _, members := range []int{10_000, 200_000} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			e2 := newEnvFor(b)
			o := gen834.Options{Members: members, Seed: 5, Full: true}
			p := filepath.Join(e2.dir, "m.834")
			f, _ := os.Create(p)
			o.WriteTo(f)
			f.Close()
			if r := ingest.Ingest834(context.Background(), e2.job(p)); r[0].Err != nil {
				b.Fatal(r[0].Err)
			}
			var feed strings.Builder
			feed.WriteString("authorization_number,member_cin,service,provider_npi,pof,status,type,start_date,end_date\n")
			const authorized = 2000
			for i := range authorized {
				fmt.Fprintf(&feed, "A-%d,%s,ECM,%s,POF1A,approved,initial,2025-06-01,2026-05-31\n", i, o.CIN(i*(members/authorized)), provA)
			}
			if r := ingest.IngestAuth(context.Background(), e2.job(e2.write("a.csv", feed.String()))); r[0].Err != nil || r[0].Loaded != authorized {
				b.Fatalf("%+v", r[0])
			}
			j := e2.judge(config.RulesAuto)
			coding := rules.DefaultCodingTable()
			leg, _ := coding.Lookup("G9008", []string{"U1"}, 20260105)
			lines := make([]domain.InvoiceLine, authorized)
			for i := range lines {
				m, _, _ := e2.st.Member(context.Background(), o.CIN(i*(members/authorized)))
				lines[i] = domain.InvoiceLine{Member: domain.Member{CIN: m.CIN, DOB: m.DOB}, Billing: domain.Provider{NPI: provA},
					From: civil.Date(20260105), To: civil.Date(20260105), Units: 1000}
			}
			run, err := e2.st.BeginRun(context.Background(), "convert", "{}")
			if err != nil {
				b.Fatal(err)
			}
			defer run.Abandon(context.Background(), "benchmark")
			ctx := context.Background()
			k := 0
			for b.Loop() {
				l := &lines[k%len(lines)]
				k++
				if _, err := j.Judge(ctx, run, l, leg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
