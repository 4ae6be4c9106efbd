package judges

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/pipelines/eligibility"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/providerfile"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// kinds names the judges by their types, in order.
func kinds(js []encounters.Judge) string {
	s := ""
	for _, j := range js {
		switch j.(type) {
		case *eligibility.Judge:
			s += "eligibility "
		case *contracts.Judge:
			s += "contracts "
		default:
			s += fmt.Sprintf("%T ", j)
		}
	}
	return s
}

// Which judges a conversion gets follows the modes and what the store holds:
// in auto mode none until a feed or roster is loaded (the fast path), in
// "all"/"on" mode always, in "off" mode never.
func TestNew(t *testing.T) {
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	build := func(elig, contract string) string {
		t.Helper()
		cfg := config.Default()
		cfg.Eligibility.Rules, cfg.Providers.ContractCheck = elig, contract
		rs, err := cfg.LoadRules()
		if err != nil {
			t.Fatal(err)
		}
		js, err := New(ctx, Env{Config: cfg, Rules: rs, Store: st})
		if err != nil {
			t.Fatal(err)
		}
		return kinds(js)
	}
	for _, tt := range []struct{ elig, contract, want string }{
		{config.RulesAuto, contracts.ModeAuto, ""},
		{config.RulesAll, contracts.ModeAuto, "eligibility "},
		{config.RulesAuto, contracts.ModeOn, "contracts "},
		{config.RulesAll, contracts.ModeOn, "eligibility contracts "},
		{config.RulesOff, contracts.ModeOff, ""},
	} {
		if got := build(tt.elig, tt.contract); got != tt.want {
			t.Errorf("empty store, eligibility %s, contracts %s: %q, want %q", tt.elig, tt.contract, got, tt.want)
		}
	}

	// A roster loaded: the contract judge runs in auto mode, not when off.
	roster := filepath.Join(t.TempDir(), "roster.csv")
	b, err := os.ReadFile("../../testdata/roster/sample-roster.csv")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(roster, b, 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := config.Default().LoadRules()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := contracts.Ingest(ctx, st, providerfile.TablesOf(rs), []string{roster}, nil); err != nil {
		t.Fatal(err)
	}
	if got := build(config.RulesAuto, contracts.ModeAuto); got != "contracts " {
		t.Errorf("roster loaded, auto: %q", got)
	}
	if got := build(config.RulesAuto, contracts.ModeOff); got != "" {
		t.Errorf("roster loaded, off: %q", got)
	}
}
