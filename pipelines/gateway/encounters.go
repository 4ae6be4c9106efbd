package gateway

import (
	"context"
	"fmt"
	"slices"
	"strings"

	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// EncounterStatuses are the statuses `calgw report encounters --status`
// takes: what DHCS last said of each encounter sent.
var EncounterStatuses = []string{store.EncounterRejected, store.EncounterSent, store.EncounterAccepted}

// Encounter is one encounter sent (its latest submission) and, when DHCS
// rejected it, what to do.
type Encounter struct {
	store.Submission
	Fix string // "" unless rejected
}

// Encounters lists each encounter's latest submission whose status is
// status, sent in month (YYYY-MM, "" = any), with what to do for a
// rejected one.
func (g *Gateway) Encounters(ctx context.Context, status, month string) ([]Encounter, error) {
	if !slices.Contains(EncounterStatuses, status) {
		return nil, fmt.Errorf("unknown encounter status %q (known: %s)", status, strings.Join(EncounterStatuses, ", "))
	}
	if month != "" {
		if _, err := mp.ParseMonth(month); err != nil {
			return nil, err
		}
	}
	es, ok := g.st.(store.EncounterStore)
	if !ok {
		return nil, fmt.Errorf("the %T state store keeps no encounters sent", g.st)
	}
	subs, err := es.Encounters(ctx, status, month)
	if err != nil {
		return nil, err
	}
	out := make([]Encounter, len(subs))
	for i, s := range subs {
		out[i] = Encounter{Submission: s, Fix: fixOf(&s)}
	}
	return out, nil
}

// fixOf says how a rejected encounter is corrected (docs/dhcs.md
// "Correcting a rejected encounter").
func fixOf(s *store.Submission) string {
	if s.Status != store.EncounterRejected {
		return ""
	}
	switch {
	case s.Frequency == "8":
		return "the void was rejected: correct it and send the void again (frequency 8, original_claim " + s.CLM01 + ")"
	case s.Frequency == "7" && s.EncounterID == "":
		// The CLM01 still has the Encounter ID the replacement cited: a
		// replacement sent again cites it in REF*F8 (rules.DecideCorrection).
		return "the replacement was rejected without an Encounter ID of its own (as a 999 rejecting its set does): correct the line and send the replacement again (frequency 7, original_claim " + s.CLM01 + "); REF*F8 carries the Encounter ID of the encounter it replaces"
	case s.EncounterID == "":
		return "DHCS holds no encounter for it (no Encounter ID): correct the line and send it with frequency 7 and original_claim " + s.CLM01 + "; it goes out again as an original with the same CLM01"
	}
	return "correct the line and send it with frequency 7 (replacement) and original_claim " + s.CLM01 + ", or frequency 8 to void it; REF*F8 carries Encounter ID " + s.EncounterID
}
