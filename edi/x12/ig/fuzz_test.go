package ig_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
)

// FuzzValidate checks that any input is validated without a panic, that
// the only error is "not X12", that the summary and results agree with the
// findings reported, and that reading ahead changes nothing.
func FuzzValidate(f *testing.F) {
	f.Add([]byte("ISA*00*          *00*          *ZZ*A              *ZZ*B              *260115*1200*^*00501*000000001*0*T*:~GS*HC*A*B*20260115*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019*00*1*20260115*1200*CH~SE*3*0001~GE*1*1~IEA*1*000000001~"))
	// Indented, with a byte order mark, a 999 of 005010X231, a claim
	// without its CLM.
	f.Add([]byte("\xEF\xBB\xBFISA*00*          *00*          *ZZ*A              *ZZ*B              *260115*1200*^*00501*000000001*0*T*:~\r\n  GS*FA*A*B*20260115*1200*1*X*005010X231~\n\tST*999*0001*005010X231~AK1*HC*1*005010X222A1~AK9*A*1*1*1~SE*4*0001~GE*1*1~IEA*1*000000001~"))
	f.Add([]byte("ISA*00*          *00*          *ZZ*A              *ZZ*B              *260115*1200*^*00501*000000001*0*T*:~GS*HC*A*B*20260115*1200*1*X*005010X222A1~ST*837*0001*005010X222A1~BHT*0019*00*1*20260115*1200*CH~HL*1**20*1~HL*2*1*22*0~SBR*P*18*******MC~DTP*454*D8*20260102~REF*D9*X~HI*ABK:Z590**~LX*2~SE*10*0001~GE*1*1~IEA*1*000000001~"))
	f.Fuzz(func(t *testing.T, data []byte) {
		want := events(bytes.NewReader(data), ig.Options{Sequential: true, MaxSegmentSize: 4096})
		if err := sameEvents(events(bytes.NewReader(data), ig.ReadAheadAfter(ig.Options{MaxSegmentSize: 4096}, -1)), want); err != nil {
			t.Fatalf("with read-ahead: %v", err)
		}
		if err := sameEvents(eventsAt(data, ig.Split(ig.Options{MaxSegmentSize: 4096}, 3, 64)), want); err != nil {
			t.Fatalf("in parts: %v", err)
		}
		var findings, txFindings int
		var txs, accepted int
		v := ig.NewValidator(ig.Options{
			MaxSegmentSize: 4096,
			OnFinding: func(fd *ig.Finding) {
				findings++
				if fd.Code == "" || fd.Msg == "" || fd.Level < ig.LevelInterchange || fd.Level > ig.LevelElement {
					t.Fatalf("malformed finding %+v", fd)
				}
				if fd.Ordinal > 0 && (fd.Offset < 0 || fd.Offset >= int64(len(data))) {
					t.Fatalf("finding offset %d outside the input", fd.Offset)
				}
			},
			OnTransaction: func(tr *ig.TransactionResult) error {
				txs++
				txFindings += len(tr.Findings) + tr.Dropped
				if tr.Status == ig.Accepted || tr.Status == ig.AcceptedWithErrors {
					accepted++
				} else if tr.Status != ig.Rejected {
					t.Fatalf("status %v", tr.Status)
				}
				if tr.Group == nil || len(tr.Codes) > 5 {
					t.Fatalf("result %+v", tr)
				}
				return nil
			},
			OnGroup: func(g *ig.GroupResult) error {
				if g.Accepted > g.Received || len(g.Codes) > 5 {
					t.Fatalf("group %+v", g)
				}
				return nil
			},
		})
		sum, err := v.Validate(context.Background(), bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, x12.ErrNotX12) {
				t.Fatalf("error %v", err)
			}
			return
		}
		if sum.Findings != findings || sum.Transactions != txs || sum.Accepted+sum.WithErrors != accepted ||
			sum.Accepted+sum.WithErrors+sum.Rejected != txs || txFindings > findings || sum.Bytes > int64(len(data)) {
			t.Fatalf("summary %+v disagrees: findings %d transactions %d accepted %d", sum, findings, txs, accepted)
		}
	})
}
