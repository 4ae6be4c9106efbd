package config

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// Inbound837 configures the intake of providers' 837P files
// (docs/inbound-837p.md): duplicate interchange detection and the trading
// partners' profiles.
type Inbound837 struct {
	// DuplicateWindow: an interchange with the sender and ISA13 of one
	// received less than this before is a duplicate (default 8760h, a
	// year). The same content is a duplicate however old.
	DuplicateWindow time.Duration `yaml:"duplicate_window"`
	// Partners are the senders' profiles by ISA06 (trimmed); a sender not
	// listed has the defaults.
	Partners map[string]Inbound837Partner `yaml:"trading_partners"`
}

// Inbound837Partner is one sender's profile.
type Inbound837Partner struct {
	// TA1 is always, on_error (default: envelope errors, or ISA14 = 1) or
	// never.
	TA1 string `yaml:"ta1"`
	// Edits set an edit's action for this sender (edit ID → warn,
	// reject_claim or reject_set); the IDs are rules/snip's.
	Edits map[string]string `yaml:"edits"`
}

// DefaultDuplicateWindow is Inbound837.DuplicateWindow's default.
const DefaultDuplicateWindow = 365 * 24 * time.Hour

// Window returns the duplicate window, its default when unset.
func (in *Inbound837) Window() time.Duration {
	if in.DuplicateWindow <= 0 {
		return DefaultDuplicateWindow
	}
	return in.DuplicateWindow
}

// Partner returns the profile of the sender with ISA06 id (trimmed), the
// zero profile when none is listed.
func (in *Inbound837) Partner(id string) Inbound837Partner {
	return in.Partners[strings.TrimSpace(id)]
}

func (in *Inbound837) validate() []string {
	var errs []string
	if in.DuplicateWindow < 0 {
		errs = append(errs, fmt.Sprintf("inbound_837p.duplicate_window %v: must not be negative", in.DuplicateWindow))
	}
	ids := make([]string, 0, len(in.Partners))
	for id := range in.Partners {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := in.Partners[id]
		at := "inbound_837p.trading_partners." + id
		if id != strings.TrimSpace(id) || id == "" || len(id) > 15 {
			errs = append(errs, fmt.Sprintf("%s: the key must be the sender's ISA06 without padding (1 to 15 characters)", at))
		}
		switch p.TA1 {
		case "", "always", "on_error", "never":
		default:
			errs = append(errs, fmt.Sprintf("%s.ta1 %q: must be always, on_error or never", at, p.TA1))
		}
		edits := make([]string, 0, len(p.Edits))
		for edit := range p.Edits {
			edits = append(edits, edit)
		}
		sort.Strings(edits)
		for _, edit := range edits {
			a := p.Edits[edit]
			if _, ok := snip.Lookup(edit); !ok {
				errs = append(errs, fmt.Sprintf("%s.edits.%s: unknown edit ID (the IDs are in docs/inbound-837p.md)", at, edit))
				continue
			}
			switch a {
			case "warn", "reject_claim", "reject_set":
			default:
				errs = append(errs, fmt.Sprintf("%s.edits.%s %q: must be warn, reject_claim or reject_set", at, edit, a))
			}
		}
	}
	return errs
}
