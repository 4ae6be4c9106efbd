package x274

import (
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// npiCheck reports every NM1 whose NM108 says NPI ("XX") and whose NM109
// fails the NPI check digit (Luhn over the 80840 prefix): site, provider
// and group NPIs. The table's pattern already demands ten digits where the
// qualifier is fixed; this adds the check digit, which no table can say.
type npiCheck struct{}

func newNPICheck() ig.Check { return npiCheck{} }

// SegmentIDs makes npiCheck an ig.SegmentFilter.
func (npiCheck) SegmentIDs() []string { return []string{"NM1"} }

func (npiCheck) Segment(t *ig.Txn, seg *x12.Segment) {
	if string(seg.Element(8)) != QualNPI {
		return
	}
	v := seg.Element(9)
	if len(v) != 10 || domain.ValidNPI(string(v)) {
		return // a wrong length is the table's finding
	}
	t.Report(ig.Finding{Pos: t.Pos(), Level: ig.LevelElement, Code: ig.ElemPatternMismatch, Element: 9, ElementRef: "67",
		Msg: "NM109 (Identification Code) is not a valid NPI: the check digit (Luhn over the 80840 prefix) does not match", Value: string(v)})
}

func (npiCheck) End(*ig.Txn) {}
