package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/pipelines/eligibility"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// The enrollment and authorization rules in convert. With eligibility.rules
// auto (the default) each rule group runs once its feed has been loaded, so
// a store without an 834 converts as before; the log says which groups run.
func init() {
	registerJudge(func(ctx context.Context, cfg *config.Config, _ *rules.CodingTable, st *store.SQLite) (encounters.Judge, error) {
		status, err := st.EnrollmentStatus(ctx)
		if err != nil {
			return nil, err
		}
		groups := eligibility.GroupsFor(cfg.Eligibility.Rules, status)
		log := slog.Default()
		eligibility.LogGroups(log, groups, status)
		if !groups.Any() {
			if cfg.Eligibility.Rules == config.RulesAuto {
				log.Warn("no 834, authorization or other_programs feed loaded: eligibility and authorization rules are skipped (calgw ingest --kind 834|auth|other_programs; eligibility.rules: all enforces them regardless)")
			}
			return nil, nil
		}
		tables, err := rules.LoadTables(rules.DataFS(cfg.RulesData))
		if err != nil {
			return nil, err
		}
		data, err := rules.LoadEligibilityTables(rules.DataFS(cfg.RulesData))
		if err != nil {
			return nil, fmt.Errorf("eligibility rule data: %w", err)
		}
		// The roster (issue 4) answers the streamlined-authorization Figure 5
		// question when the store implements the directory; without it, only
		// eligibility.streamlined_extensions qualify a provider.
		var dir domain.ProviderDirectory
		if d, ok := any(st).(domain.ProviderDirectory); ok {
			dir = d
		}
		return eligibility.New(eligibility.Options{Config: cfg, Tables: tables, Data: data, Groups: groups, Providers: dir, Status: &status})
	})
}
