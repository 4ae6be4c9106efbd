// Package x999 reads the answers of 999 implementation acknowledgments
// (005010X231A1): per acknowledged functional group (AK1) its transaction
// sets (AK2) with their status (IK5) and errors (IK3/IK4/CTX), and the
// group's status and counts (AK9). It does not validate (ig's 999 table
// does).
package x999

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// Set is the answer to one transaction set (AK2 loop).
type Set struct {
	ID      string   // AK201, e.g. 837
	Control string   // AK202, the set's ST02
	Status  string   // IK501: A, E, M, R, W, X
	Codes   []string // IK502..IK506 (SetErrorText puts them in words)
	Errors  []string // one per IK3 and IK4, in words with positions
	Line    int64    // line of its AK2
}

// Group is the answer to one functional group (a 999 transaction set).
type Group struct {
	FunctionalID string // AK101, e.g. HC
	Control      string // AK102, the group's GS06
	Version      string // AK103
	Sets         []Set
	Status       string // AK901: A, E, M, P, R, W, X
	Included     int    // AK902
	Received     int    // AK903
	Accepted     int    // AK904
	Codes        []string
	Line         int64 // line of its AK1
}

// Ack is a whole 999 file.
type Ack struct {
	Sender        string // ISA06: who acknowledges
	Receiver      string // ISA08: the sender of the acknowledged interchange
	GroupReceiver string // GS03 of the 999's group
	Groups        []Group
}

// Read reads every 999 in r.
func Read(r io.Reader) (*Ack, error) {
	rd := x12.NewReader(r)
	var (
		out  Ack
		g    *Group
		set  *Set
		ik3  string // the segment position IK4s refer to
		sets int
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
		case "GS":
			out.GroupReceiver = seg.ElementString(3)
		case "ST":
			if seg.ElementString(1) != "999" {
				return nil, fmt.Errorf("x999: segment %d (line %d) ST01 %q: not a 999", seg.Ordinal, seg.Line, seg.ElementString(1))
			}
			sets++
			g, set = nil, nil
		case "AK1":
			out.Groups = append(out.Groups, Group{FunctionalID: seg.ElementString(1), Control: seg.ElementString(2), Version: seg.ElementString(3), Line: seg.Line})
			g = &out.Groups[len(out.Groups)-1]
			set = nil
		case "AK2":
			if g == nil {
				return nil, fmt.Errorf("x999: segment %d (line %d): AK2 before AK1", seg.Ordinal, seg.Line)
			}
			g.Sets = append(g.Sets, Set{ID: seg.ElementString(1), Control: seg.ElementString(2), Line: seg.Line})
			set = &g.Sets[len(g.Sets)-1]
		case "IK3":
			if set != nil {
				ik3 = fmt.Sprintf("%s at segment %s", seg.ElementString(1), seg.ElementString(2))
				if loop := seg.ElementString(3); loop != "" {
					ik3 += " (loop " + loop + ")"
				}
				set.Errors = append(set.Errors, fmt.Sprintf("IK3 %s: %s", ik3, words(segmentErrors, seg.ElementString(4))))
			}
		case "IK4":
			if set != nil {
				e := fmt.Sprintf("IK4 %s element %s: %s", ik3, strings.ReplaceAll(seg.ElementString(1), string(seg.Delimiters().Component), "."), words(elementErrors, seg.ElementString(3)))
				if ref := seg.ElementString(2); ref != "" {
					e += " (data element " + ref + ")"
				}
				set.Errors = append(set.Errors, e)
			}
		case "IK5":
			if set != nil {
				set.Status = seg.ElementString(1)
				for i := 2; i <= seg.Len(); i++ {
					if c := seg.ElementString(i); c != "" {
						set.Codes = append(set.Codes, c)
					}
				}
				set = nil
			}
		case "AK9":
			if g == nil {
				return nil, fmt.Errorf("x999: segment %d (line %d): AK9 before AK1", seg.Ordinal, seg.Line)
			}
			g.Status = seg.ElementString(1)
			for i, p := range []*int{&g.Included, &g.Received, &g.Accepted} {
				n, err := strconv.Atoi(seg.ElementString(i + 2))
				if err != nil || n < 0 {
					return nil, fmt.Errorf("x999: segment %d (line %d) AK90%d %q: not a count", seg.Ordinal, seg.Line, i+2, seg.ElementString(i+2))
				}
				*p = n
			}
			for i := 5; i <= seg.Len(); i++ {
				if c := seg.ElementString(i); c != "" {
					g.Codes = append(g.Codes, c)
				}
			}
		}
	}
	if sets == 0 {
		return nil, fmt.Errorf("x999: no 999 transaction set")
	}
	return &out, nil
}
