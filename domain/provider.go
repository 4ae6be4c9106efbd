package domain

import (
	"context"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// ProviderContract is what the plan's provider roster says about one
// provider site: what it is contracted for, and when. The roster feature
// fills it; the eligibility and authorization rules read it (e.g. the
// streamlined-authorization Figure 5 pairs and PROVIDER-NOT-CONTRACTED).
type ProviderContract struct {
	NPI               string
	TIN               string
	Site              string   // site name
	Address           Address  // the site's address (ZIP of 5 or 9 digits)
	County            string   // two-digit county code
	Types             []string // provider type ids (rules/data/provider_types.csv)
	POFs              []string // ECM populations of focus contracted (POF1A, ...)
	CommunitySupports []string // coding-table service ids (CS01 ... CS14, TR, HO)
	From, To          civil.Date
	MediCalEnrolled   bool
}

// Covers reports whether the contract is in force on d.
func (c *ProviderContract) Covers(d civil.Date) bool {
	return d >= c.From && (c.To == 0 || d <= c.To)
}

// ProviderDirectory answers questions about providers from the roster.
type ProviderDirectory interface {
	// Contracts returns every contract (site) of the provider with this NPI;
	// none when the roster does not know it.
	Contracts(ctx context.Context, npi string) ([]ProviderContract, error)
}
