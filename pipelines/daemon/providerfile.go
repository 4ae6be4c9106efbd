package daemon

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/providerfile"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// RoleProviders is the monthly 274 job's output: one provider network
// file per county, to DHCS.
const RoleProviders = "providers"

// The monthly DHCS 274 provider network files (scheduled job kind "274"):
// pipelines/providerfile.Run, as `calgw provider-file --month`, for the
// month the job falls due in (Job.Period: a job due on the 5th of October
// writes the October files, from the roster sites in force on at least one
// day of October). The ledger runs it once per month, across instances
// sharing a store too: every instance's schedule registers the month's
// entry, but the store adds it once (FileNotice.Once), a second entry
// would be a duplicate of the first's content, and only the instance
// holding the entry's lease records the files it wrote and delivers them
// (an instance that lost its lease mid-job finds the entry no longer held).
type providerFileJob struct {
	st      providerfile.Store
	mapping *rules.ProviderFileMapping
}

// newProviderFileJob loads the 274 mapping at start, so that a mapping
// file the 274 table refuses, or a missing trading partner, stops the
// start rather than the month's job.
func newProviderFileJob(env Env) (Processor, error) {
	st, err := storeFor[providerfile.Store](env, "274")
	if err != nil {
		return nil, err
	}
	cfg := env.Config
	if _, ok := cfg.Partners[cfg.Providers.TradingPartner]; !ok {
		return nil, fmt.Errorf("providers.trading_partner %q is not in trading_partners", cfg.Providers.TradingPartner)
	}
	return &providerFileJob{st: st, mapping: env.Rules.ProviderFile}, nil
}

// Process writes the month's files into job.OutDir (validated against the
// 274 table, all or none). Nothing is recorded but control numbers, which
// are reserved before writing: a run interrupted before the ledger records
// its outputs is run again with new numbers (a gap, never a number used
// twice), and its first files, never delivered, are discarded with the work
// directory. A month without any site in force is quarantined at once (the
// ledger's note says why): there is nothing to send, and it needs a look.
func (p *providerFileJob) Process(ctx context.Context, job *Job) (*Result, error) {
	month, err := mp.ParseMonth(job.Period)
	if err != nil {
		return nil, unusable("scheduled 274 job: period %q: %v", job.Period, err)
	}
	res, err := providerfile.Run(ctx, providerfile.Job{
		Month: month, OutDir: job.OutDir, Store: p.st, Config: job.Config, Mapping: p.mapping, Log: job.Log,
	})
	if errors.Is(err, providerfile.ErrNoSites) {
		return nil, unusable("no provider site of the roster is in force during %s: no 274 written (load a roster through a route of kind roster; "+
			"this month's job does not run again: stop calgw run and use calgw provider-file --month %s)", month, month)
	}
	if err != nil {
		return nil, err
	}
	out := &Result{}
	var counties []string
	for _, f := range res.Files {
		out.Outputs = append(out.Outputs, Output{Role: RoleProviders, Path: f.Path, Name: filepath.Base(f.Path)})
		what := f.County
		if f.HCP != "" {
			what = "HCP " + f.HCP + " [" + strings.Join(f.Counties, " ") + "]"
		}
		counties = append(counties, fmt.Sprintf("%s (%d site(s), ISA13 %09d)", what, f.Sites, f.Interchange))
	}
	out.Note = fmt.Sprintf("274 for %s: %d county file(s): %s", month, len(res.Files), strings.Join(counties, ", "))
	return out, nil
}
