// Package x277ca reads the answers of a 277CA claim acknowledgment
// (005010X214) as DHCS sends it (docs/sources/dhcs-observed-formats.md B4
// [P]): per claim (2200D, under an HL*…*PT level) TRN*2 with the CLM01
// sent, STC with category:status[:entity] (F1:20 accepted, F2:<status>
// denied, e.g. F2:54 or F2:97:QC) and REF*1K with the 15-digit DHCS
// Encounter ID; per batch (2200B, under the HL*…*21 information receiver)
// the accepted and rejected counts of QTY*90 and QTY*AA. It does not
// validate (ig's 277CA table does).
package x277ca

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// Claim is one claim's answer.
type Claim struct {
	CLM01       string // TRN02
	Status      string // STC01-1:STC01-2, e.g. F1:20 or F2:54
	Entity      string // STC01-3, e.g. QC (patient); "" when absent
	EncounterID string // REF*1K
	Batch       int    // index in Response.Batches of the batch it is under; -1 for none
	Line        int64  // line of its TRN
	Ordinal     int64  // segment number of its TRN
}

// Accepted reports whether DHCS accepted the claim (category F1).
func (c Claim) Accepted() bool { return strings.HasPrefix(c.Status, "F1") }

// Category is STC01-1, e.g. F1.
func (c Claim) Category() string { cat, _, _ := strings.Cut(c.Status, ":"); return cat }

// STC01 is the whole claim status composite, category:status[:entity].
func (c Claim) STC01() string {
	if c.Entity == "" {
		return c.Status
	}
	return c.Status + ":" + c.Entity
}

// Batch is one information receiver level (2200B): DHCS's counts of the
// claims it accepted (QTY*90) and rejected (QTY*AA); -1 when absent.
type Batch struct {
	TRN      string // TRN02, DHCS's batch ID
	Accepted int
	Rejected int
	Claims   int // the claim levels under it in this file
	Line     int64
}

// Response is a whole 277CA file.
type Response struct {
	Sender   string // ISA06 (DHCS: CALIFORNIA-DHCS)
	Receiver string // ISA08 (the plan's TIN + HCP code)
	Claims   []Claim
	Batches  []Batch
}

// Read returns the claims of every 277 in r, in order.
func Read(r io.Reader) ([]Claim, error) {
	resp, err := ReadResponse(r)
	if err != nil {
		return nil, err
	}
	return resp.Claims, nil
}

// ReadResponse reads every 277 in r.
func ReadResponse(r io.Reader) (*Response, error) {
	rd := x12.NewReader(r)
	var (
		out   Response
		level string // HL03 of the open level
		cur   *Claim
		batch = -1
		sets  int
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
		case "ISA":
			out.Sender, out.Receiver = strings.TrimSpace(seg.ElementString(6)), strings.TrimSpace(seg.ElementString(8))
		case "ST":
			if seg.ElementString(1) != "277" {
				return nil, fmt.Errorf("x277ca: segment %d (line %d) ST01 %q: not a 277", seg.Ordinal, seg.Line, seg.ElementString(1))
			}
			sets++
			level, cur, batch = "", nil, -1 // a 277's levels are its own
		case "HL":
			level = seg.ElementString(3)
			cur = nil
			if level == "21" {
				out.Batches = append(out.Batches, Batch{Accepted: -1, Rejected: -1, Line: seg.Line})
				batch = len(out.Batches) - 1
			}
		case "TRN":
			switch {
			case level == "PT" && seg.ElementString(1) == "2":
				out.Claims = append(out.Claims, Claim{CLM01: seg.ElementString(2), Batch: batch, Line: seg.Line, Ordinal: seg.Ordinal})
				cur = &out.Claims[len(out.Claims)-1]
				if batch >= 0 {
					out.Batches[batch].Claims++
				}
			case level == "21" && batch >= 0:
				out.Batches[batch].TRN = seg.ElementString(2)
			}
		case "STC":
			if cur != nil && cur.Status == "" {
				cur.Status = string(seg.Component(1, 1))
				if st := seg.Component(1, 2); len(st) > 0 {
					cur.Status += ":" + string(st)
				}
				cur.Entity = string(seg.Component(1, 3))
			}
		case "QTY":
			if level != "21" || batch < 0 {
				continue
			}
			n, err := strconv.Atoi(seg.ElementString(2))
			if err != nil || n < 0 {
				return nil, fmt.Errorf("x277ca: segment %d (line %d) QTY02 %q: not a count", seg.Ordinal, seg.Line, seg.ElementString(2))
			}
			switch seg.ElementString(1) {
			case "90":
				out.Batches[batch].Accepted = n
			case "AA":
				out.Batches[batch].Rejected = n
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
	return &out, nil
}
