// Package x277ca reads the claim-level answers of a 277CA claim
// acknowledgment (005010X214) as DHCS sends it
// (docs/sources/dhcs-observed-formats.md B4 [P]): per claim (2200D, under
// an HL*…*PT level) TRN*2 with the CLM01 sent, STC with category:status
// (F1:20 accepted, F2:<status> denied) and REF*1K with the 15-digit DHCS
// Encounter ID. It does not validate (ig's 277CA table does).
package x277ca

import (
	"fmt"
	"io"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// Claim is one claim's answer.
type Claim struct {
	CLM01       string // TRN02
	Status      string // STC01-1:STC01-2, e.g. F1:20 or F2:54
	EncounterID string // REF*1K
	Line        int64  // line of its TRN
	Ordinal     int64  // segment number of its TRN
}

// Accepted reports whether DHCS accepted the claim (category F1).
func (c Claim) Accepted() bool { return strings.HasPrefix(c.Status, "F1") }

// Read returns the claims of every 277 in r, in order.
func Read(r io.Reader) ([]Claim, error) {
	rd := x12.NewReader(r)
	var (
		out     []Claim
		patient bool // inside an HL*…*PT level
		cur     *Claim
		sets    int
	)
	for {
		seg, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch string(seg.ID()) {
		case "ST":
			if seg.ElementString(1) != "277" {
				return nil, fmt.Errorf("x277ca: segment %d (line %d) ST01 %q: not a 277", seg.Ordinal, seg.Line, seg.ElementString(1))
			}
			sets++
		case "HL":
			patient = seg.ElementString(3) == "PT"
			cur = nil
		case "TRN":
			if patient && seg.ElementString(1) == "2" {
				out = append(out, Claim{CLM01: seg.ElementString(2), Line: seg.Line, Ordinal: seg.Ordinal})
				cur = &out[len(out)-1]
			}
		case "STC":
			if cur != nil && cur.Status == "" {
				cur.Status = string(seg.Component(1, 1))
				if st := seg.Component(1, 2); len(st) > 0 {
					cur.Status += ":" + string(st)
				}
			}
		case "REF":
			if cur != nil && seg.ElementString(1) == "1K" {
				cur.EncounterID = seg.ElementString(2)
			}
		}
	}
	if sets == 0 {
		return nil, fmt.Errorf("x277ca: no 277 transaction set")
	}
	return out, nil
}
