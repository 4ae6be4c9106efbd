package main

import (
	"context"
	"log/slog"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// PROVIDER-NOT-CONTRACTED in convert: active once a roster is loaded
// (providers.contract_check: auto), or always (on), or never (off).
func init() {
	registerJudge(func(ctx context.Context, cfg *config.Config, _ *rules.CodingTable, st *store.SQLite) (encounters.Judge, error) {
		return contracts.New(ctx, cfg.Providers.ContractCheck, st, slog.Default())
	})
}
