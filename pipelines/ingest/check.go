package ingest

import (
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/mappings/enrollment"
)

// DataCheck returns a check factory for ig.Registry.Register(ig.Spec834,
// ...): during an implementation-guide validation it maps each member loop
// and hands every member with data problems (the ones Ingest834 would skip
// it for) to report, so that `calgw validate` can check data in the same
// pass as the guide. The *Member is valid only during the call.
func DataCheck(opts enrollment.Options, report func(m *enrollment.Member)) func() ig.Check {
	return func() ig.Check {
		p := enrollment.New(opts)
		p.OnMember = func(m *enrollment.Member) error {
			if !m.OK() {
				report(m)
			}
			return nil
		}
		return dataCheck{p}
	}
}

type dataCheck struct{ p *enrollment.Mapper }

func (c dataCheck) Segment(_ *ig.Txn, seg *x12.Segment) {
	if !seg.Is("SE") {
		c.p.Segment(seg)
	}
}

func (c dataCheck) End(*ig.Txn) { c.p.EndSet() }
