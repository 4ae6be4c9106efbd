package eligibility

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// countingView is a run's real view that counts the usage counters read
// one at a time and those read in one pass.
type countingView struct {
	Enrollment
	one      []string
	prefetch [][]string
}

func (v *countingView) Usage(ctx context.Context, key string) (int64, civil.Date, error) {
	v.one = append(v.one, key)
	return v.Enrollment.Usage(ctx, key)
}

func (v *countingView) PrefetchMembers(ctx context.Context, cins []string, parts store.MemberParts) error {
	return v.Enrollment.(store.MemberPrefetcher).PrefetchMembers(ctx, cins, parts)
}

func (v *countingView) PrefetchUsage(ctx context.Context, keys []string) (map[string]store.UsageCount, error) {
	v.prefetch = append(v.prefetch, slices.Clone(keys))
	return v.Enrollment.(store.UsagePrefetcher).PrefetchUsage(ctx, keys)
}

// On PostgreSQL, where each read of a usage counter is a round trip, the
// judge reads a batch's counters in one pass (Prefetch) and judges the
// lines from them, its own moves included: no counter is read one at a
// time, and the decisions are those of the counters read one at a time.
func TestUsageReadInOnePassOnPostgres(t *testing.T) {
	e := newPGEnv(t, testsrv.Postgres(t), "prefetchusage")
	e.load(`authorization_number,member_cin,service,provider_npi,pof,status,type,start_date,end_date,units_authorized,decision_date,decision_communicated_date
U-1,91000001A,ECM,1234567893,POF1A,approved,initial,2026-01-01,2026-12-31,3,2025-12-30,2025-12-30
C-4,91000001A,CS04,1234567893,,approved,initial,2026-03-01,2026-12-31,,2026-02-20,2026-02-20
`)
	ctx := context.Background()
	coding := rules.DefaultCodingTable()
	ecm, _ := coding.Lookup("G9008", []string{"U1"}, 20260302)
	cs04, _ := coding.Lookup("H0043", []string{"U3"}, 20260301)
	mk := func(from, to civil.Date, code string, mods []string, units domain.Quantity) *domain.InvoiceLine {
		return &domain.InvoiceLine{Member: domain.Member{CIN: elena, DOB: 19850312}, Billing: domain.Provider{NPI: provA},
			From: from, To: to, Units: units, HCPCS: code, Modifiers: mods}
	}
	lines := []*domain.InvoiceLine{
		mk(20260302, 20260302, "G9008", []string{"U1"}, 2000),   // 2 of 3 units
		mk(20260303, 20260303, "G9008", []string{"U1"}, 2000),   // 4 > 3
		mk(20260301, 20260831, "H0043", []string{"U3"}, 184000), // CS04: 184 days, the limit
		mk(20260901, 20260901, "H0043", []string{"U3"}, 1000),   // 185 > 184
	}
	legs := []*rules.CodeLeg{ecm, ecm, cs04, cs04}
	judge := func(counting bool) (decided []string, v *countingView) {
		j := e.judge(config.RulesAuto)
		run, err := e.st.BeginRun(ctx, "convert", "{}")
		if err != nil {
			t.Fatal(err)
		}
		defer run.Abandon(ctx, "test")
		if err := j.bind(run); err != nil {
			t.Fatal(err)
		}
		v = &countingView{Enrollment: j.view}
		j.view = v
		if counting {
			if err := j.Prefetch(ctx, run, lines, legs); err != nil {
				t.Fatal(err)
			}
		}
		for i, l := range lines {
			ds, err := j.Judge(ctx, run, l, legs[i])
			if err != nil {
				t.Fatal(err)
			}
			var rs []string
			for _, d := range ds {
				rs = append(rs, d.Rule)
			}
			decided = append(decided, fmt.Sprint(rs))
			if len(ds) == 0 {
				if err := j.Sent(ctx, run, l, legs[i]); err != nil {
					t.Fatal(err)
				}
			}
		}
		return decided, v
	}
	oneByOne, v1 := judge(false)
	prefetched, v2 := judge(true)
	want := fmt.Sprint([]string{"[]", "[" + rules.AuthUnitsExceeded + "]", "[]", "[" + rules.CSLimitExceeded + "]"})
	if fmt.Sprint(oneByOne) != want || fmt.Sprint(prefetched) != want {
		t.Errorf("decisions read one at a time %v, prefetched %v, want %v", oneByOne, prefetched, want)
	}
	if len(v1.one) == 0 {
		t.Errorf("without Prefetch no counter was read: the test reads nothing")
	}
	if len(v2.one) != 0 || len(v2.prefetch) != 1 || len(v2.prefetch[0]) != 2 {
		t.Errorf("with Prefetch: read one at a time %v, in passes %v; want none, and one pass of the 2 counters", v2.one, v2.prefetch)
	}
}
