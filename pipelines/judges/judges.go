// Package judges builds the stateful invoice rules of one conversion: the
// enrollment and authorization rules (pipelines/eligibility) and the
// provider contract rule (pipelines/contracts), each over the state store.
// `calgw convert`, the demo and the daemon's invoice processor all take
// their judges from New.
package judges

import (
	"context"
	"log/slog"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/eligibility"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Store is what the judges read of the state store: what the enrollment
// feeds loaded, and the provider roster.
type Store interface {
	EnrollmentStatus(ctx context.Context) (store.EnrollmentStatus, error)
	contracts.Directory
}

// Env is what the judges are built from.
type Env struct {
	Config *config.Config
	Rules  *rules.Set
	Store  Store
	Log    *slog.Logger // nil = slog.Default()
}

// factory builds one judge; nil means it has nothing to judge.
type factory func(ctx context.Context, env Env) (encounters.Judge, error)

// factories lists the judges in the order they see a line.
var factories = []factory{eligibilityJudge, contractJudge}

// New returns the judges of one conversion. A judge with nothing to judge
// (its reference data not loaded: nil, or Active() false) is left out, so
// that without judges the store checks lines in batches, the fast path.
func New(ctx context.Context, env Env) ([]encounters.Judge, error) {
	if env.Log == nil {
		env.Log = slog.Default()
	}
	var out []encounters.Judge
	for _, f := range factories {
		j, err := f(ctx, env)
		if err != nil {
			return nil, err
		}
		if j == nil {
			continue
		}
		if a, ok := j.(interface{ Active() bool }); ok && !a.Active() {
			continue
		}
		out = append(out, j)
	}
	return out, nil
}

// eligibilityJudge applies the enrollment and authorization rules. With
// eligibility.rules auto (the default) each rule group runs once its feed
// has been loaded, so a store without an 834 converts as before; the log
// says which groups run.
func eligibilityJudge(ctx context.Context, env Env) (encounters.Judge, error) {
	status, err := env.Store.EnrollmentStatus(ctx)
	if err != nil {
		return nil, err
	}
	mode := env.Config.Eligibility.Rules
	groups := eligibility.GroupsFor(mode, status)
	eligibility.LogGroups(env.Log, groups, status)
	if !groups.Any() {
		if mode == config.RulesAuto {
			env.Log.Warn("no 834, authorization or other_programs feed loaded: eligibility and authorization rules are skipped (calgw ingest --kind 834|auth|other_programs; eligibility.rules: all enforces them regardless)")
		}
		return nil, nil
	}
	// The roster answers the streamlined-authorization Figure 5 question;
	// without one, only eligibility.streamlined_extensions qualify a provider.
	var dir domain.ProviderDirectory = env.Store
	j, err := eligibility.New(eligibility.Options{Rules: env.Rules, Groups: groups, Providers: dir, Status: &status})
	if err != nil {
		return nil, err
	}
	return j, nil
}

// contractJudge applies PROVIDER-NOT-CONTRACTED: active once a roster is
// loaded (providers.contract_check: auto), or always (on), or never (off).
func contractJudge(ctx context.Context, env Env) (encounters.Judge, error) {
	j, err := contracts.New(ctx, env.Config.Providers.ContractCheck, env.Store, env.Log)
	if err != nil {
		return nil, err
	}
	return j, nil
}
