package domain

import "github.com/calaim-gateway/calaim-gateway/internal/civil"

// SentService is an encounter line sent to DHCS as the monthly monitoring
// file counts it: whose, which service and code (leg), when, how much.
type SentService struct {
	CIN       string
	Service   string   // coding-table service id: ECM, CS01..CS14, HO, TR
	HCPCS     string   // the leg's code
	Modifiers []string // the leg's modifiers, sorted
	Outreach  bool     // an outreach leg of the coding table
	From, To  civil.Date
	Units     Quantity // thousandths
	Charge    Money    // cents
	NPI       string   // the rendering provider, else the billing provider
}
