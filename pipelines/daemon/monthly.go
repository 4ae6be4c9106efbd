package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/monthly"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// RoleMonitoring is the monthly monitoring JSON, to DHCS; the side report
// (what the file leaves absent or out) goes to RoleReport.
const RoleMonitoring = "monitoring"

// The monthly ECM/CS monitoring JSON (scheduled job kind "monthly-report"):
// pipelines/monthly.Run, as `calgw report monthly`, for the month before
// the one the job falls due in (a job due on the 5th of November reports
// October, a whole month). The ledger runs it once per month; a file
// that breaks its schema is quarantined with the violations' places and
// keywords (never their values: they may be member data), and nothing is
// delivered.
type monthlyReportJob struct {
	st    monthly.Store
	rules *rules.Set
}

// newMonthlyReportJob checks at start that the plan can name the file and
// its records.
func newMonthlyReportJob(env Env) (Processor, error) {
	st, err := storeFor[monthly.Store](env, "monthly-report")
	if err != nil {
		return nil, err
	}
	if _, err := monthly.Plan(env.Config); err != nil {
		return nil, err
	}
	return &monthlyReportJob{st: st, rules: env.Rules}, nil
}

func (p *monthlyReportJob) Process(ctx context.Context, job *Job) (*Result, error) {
	due, err := mp.ParseMonth(job.Period)
	if err != nil {
		return nil, unusable("scheduled monthly report: period %q: %v", job.Period, err)
	}
	prev := due.First().AddMonths(-1)
	month := mp.Month{Year: prev.Year(), Month: int(prev.Month())}
	res, err := monthly.Run(ctx, monthly.Job{Month: month, OutDir: job.OutDir, Store: p.st, Config: job.Config, Rules: p.rules, Log: job.Log})
	if errors.Is(err, monthly.ErrInvalid) {
		var where []string
		for i, v := range res.Violations {
			if i == 20 {
				where = append(where, "...")
				break
			}
			where = append(where, v.Pointer+" "+v.Keyword)
		}
		return nil, unusable("monthly monitoring file for %s breaks its schema (%d violation(s)): %s; nothing delivered (calgw report monthly --month %s lists them)",
			month, res.Invalid, strings.Join(where, ", "), month)
	}
	if err != nil {
		return nil, err
	}
	total := 0
	for _, n := range res.Counts {
		total += n
	}
	return &Result{
		Outputs: []Output{
			{Role: RoleMonitoring, Path: res.Path, Name: filepath.Base(res.Path)},
			{Role: RoleReport, Path: res.SideReport, Name: filepath.Base(res.SideReport)},
		},
		Note: fmt.Sprintf("monthly monitoring file for %s: %s, %s version %03d, %d record(s)", month, filepath.Base(res.Path), res.Type, res.Version, total),
	}, nil
}
