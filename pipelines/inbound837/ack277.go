package inbound837

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ack"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/scratch"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// Version277CA is the guide of the 277CA Writer277 writes.
const Version277CA = "005010X214"

// Party names the plan in the 277CA's information source loop (2100A).
type Party struct {
	Name string // NM103
	ID   string // NM109 (qualifier 46, electronic transmitter ID)
}

// Writer277 writes a 277CA claim acknowledgment per accepted 837P
// transaction set that holds claims: one interchange per input
// interchange, one group, one 277 per set. A claim is accepted (STC A2:20) with the plan's assigned
// claim number in REF*1K, or rejected (STC A7 with the claim status code of
// each rejecting edit).
//
// The 277s of an input interchange wait in a temporary file (the spool)
// until its IEA is checked: those of a group its 999 rejects (AK9 R) are
// dropped at its GE, all of them when its TA1 rejects the interchange;
// the rest are written in one interchange at its end.
type Writer277 struct {
	w    *x12.Writer
	num  ack.Numbers
	now  func() time.Time
	plan Party
	err  error

	in       ig.InterchangeInfo
	received time.Time // when the plan received the file (2200A DTP*050); zero: the day it is answered

	spool    *os.File    // the 277s of the input interchange, ST to SE
	sw       *x12.Writer // set writer on spool
	sets     int         // 277s in the spool
	kept     int         // of them, those of groups that ended accepted
	keptEnd  int64       // where they end in the spool
	group    ig.GroupInfo
	keptFrom ig.GroupInfo // the first group with a 277 kept: the 277CA's GS
	haveFrom bool
}

// NewWriter277 returns a Writer277 writing to w.
func NewWriter277(w *x12.Writer, num ack.Numbers, plan Party, now func() time.Time) *Writer277 {
	if now == nil {
		now = time.Now
	}
	return &Writer277{w: w, num: num, now: now, plan: plan}
}

// Received sets when the plan received the file: the 277CA's receipt
// date (2200A DTP*050). Unset, it is the day of the 277CA.
func (a *Writer277) Received(t time.Time) { a.received = t }

// Err returns the first error met.
func (a *Writer277) Err() error { return a.err }

func (a *Writer277) fail(err error) error {
	if a.err == nil && err != nil {
		a.err = err
	}
	return a.err
}

func (a *Writer277) begin(g *ig.GroupInfo) error {
	isa, err := a.num.NextInterchange()
	if err != nil {
		return a.fail(fmt.Errorf("277CA: interchange control number: %w", err))
	}
	gs, err := a.num.NextGroup()
	if err != nil {
		return a.fail(fmt.Errorf("277CA: group control number: %w", err))
	}
	now := a.now()
	usage := a.in.Usage
	if usage != "P" && usage != "T" {
		usage = "P"
	}
	d := a.w.Delimiters()
	err = a.w.BeginInterchange(x12.InterchangeHeader{
		SenderQualifier: ack.ReplyQualifier(a.in.ReceiverQualifier), SenderID: ack.Echo(d, a.in.ReceiverID),
		ReceiverQualifier: ack.ReplyQualifier(a.in.SenderQualifier), ReceiverID: ack.Echo(d, a.in.SenderID),
		Date: now, ControlNumber: isa, Usage: usage,
	})
	if err == nil {
		err = a.w.BeginGroup(x12.GroupHeader{FunctionalID: "HN", SenderCode: ack.Echo(d, g.ReceiverCode), ReceiverCode: ack.Echo(d, g.SenderCode),
			Date: now, ControlNumber: gs, Version: Version277CA})
	}
	return a.fail(err)
}

// start empties the spool for input interchange in, whose 277s use
// delimiters d.
func (a *Writer277) start(in *ig.InterchangeInfo, d x12.Delimiters) error {
	a.in = *in
	a.sets, a.kept, a.keptEnd, a.haveFrom = 0, 0, 0, false
	if err := a.rewind(0); err != nil {
		return a.fail(err)
	}
	if err := a.w.SetDelimiters(d); err != nil {
		return a.fail(err)
	}
	if a.spool != nil {
		a.sw = a.w.SetWriter(a.spool)
	}
	return nil
}

// rewind drops what the spool holds past off.
func (a *Writer277) rewind(off int64) error {
	if a.spool == nil {
		return nil
	}
	if err := a.sw.Flush(); err != nil {
		return err
	}
	if err := rewind(a.spool, off); err != nil {
		return fmt.Errorf("277CA: spool: %w", err)
	}
	return nil
}

// groupEnd keeps the 277s of the input group that just ended, or drops
// them when its 999 rejects it.
func (a *Writer277) groupEnd(rejected bool) error {
	if a.err != nil || a.spool == nil {
		return a.err
	}
	if rejected {
		a.sets = a.kept
		return a.fail(a.rewind(a.keptEnd))
	}
	if err := a.sw.Flush(); err != nil {
		return a.fail(err)
	}
	off, err := a.spool.Seek(0, io.SeekCurrent)
	if err != nil {
		return a.fail(fmt.Errorf("277CA: spool: %w", err))
	}
	if a.sets > a.kept && !a.haveFrom {
		a.keptFrom, a.haveFrom = a.group, true
	}
	a.kept, a.keptEnd = a.sets, off
	return nil
}

// end writes the 277CA interchange of the input interchange that just
// ended: the 277s kept, none when its TA1 rejects it.
func (a *Writer277) end(rejected bool) error {
	if a.err != nil || rejected || a.kept == 0 {
		return a.err
	}
	if err := a.begin(&a.keptFrom); err != nil {
		return err
	}
	if err := a.sw.Flush(); err != nil {
		return a.fail(err)
	}
	if _, err := a.spool.Seek(0, io.SeekStart); err != nil {
		return a.fail(fmt.Errorf("277CA: spool: %w", err))
	}
	if err := a.w.AppendSets(io.LimitReader(a.spool, a.keptEnd), a.kept); err != nil {
		return a.fail(err)
	}
	if err := a.w.EndGroup(); err != nil {
		return a.fail(err)
	}
	return a.fail(a.w.EndInterchange())
}

// close frees the spool (a scratch file).
func (a *Writer277) close() {
	if a.spool != nil {
		a.spool.Close()
		a.spool, a.sw = nil, nil
	}
}

// set spools the 277 of one accepted transaction set of group g.
// submitter is the 837P's 1000A NM102, NM103, NM104 and NM109.
func (a *Writer277) set(g *ig.GroupInfo, bht03 string, submitter [4]string, claims []Claim) error {
	if a.err != nil {
		return a.err
	}
	if a.spool == nil {
		f, err := scratch.File("", "calgw-837p-277ca-")
		if err != nil {
			return a.fail(fmt.Errorf("277CA: spool: %w", err))
		}
		a.spool, a.sw = f, a.w.SetWriter(f)
	}
	a.group = *g
	a.sets++
	st := int64(a.sets)
	w := a.sw
	// A value repeated from the input holds none of the 277's separators
	// unless the input's own could not be used (answerDelimiters).
	d := w.Delimiters()
	echo := func(v string) string { return ack.Echo(d, v) }
	now := a.now()
	today := now.Format("20060102")
	if err := w.BeginTransaction("277", st, Version277CA); err != nil {
		return a.fail(err)
	}
	received := today
	if !a.received.IsZero() {
		received = a.received.Format("20060102")
	}
	ref := echo(bht03)
	if ref == "" {
		ref = "0"
	}
	// BHT03 is the plan's own reference of the 277, and so its trace
	// number (2200A TRN02); the provider's BHT03 is traced in 2200B.
	own := "277CA" + a.in.Control + strconv.FormatInt(st, 10)
	w.Segment("BHT", "0085", "08", own, today, now.Format("1504"), "TH")
	w.Segment("HL", "1", "", "20", "1")
	w.Segment("NM1", "PR", "2", a.plan.Name, "", "", "", "", "46", a.plan.ID)
	w.Segment("TRN", "1", own)
	w.Segment("DTP", "050", "D8", received)
	w.Segment("DTP", "009", "D8", today)
	acc, rej := 0, 0
	var accAmt, rejAmt amount
	for i := range claims {
		if claims[i].Rejected {
			rej++
			rejAmt.add(claims[i].Charge)
		} else {
			acc++
			accAmt.add(claims[i].Charge)
		}
	}
	w.Segment("HL", "2", "1", "21", "1")
	typ, first := entityType(submitter[0], submitter[2])
	w.Segment("NM1", "41", typ, echo(submitter[1]), echo(first), "", "", "", "46", echo(submitter[3]))
	w.Segment("TRN", "2", ref)
	w.Segment("STC", w.Composite("A1", "19", "PR"), today, "WQ", accAmt.plus(rejAmt).String())
	if acc > 0 {
		w.Segment("QTY", "90", strconv.Itoa(acc))
	}
	if rej > 0 {
		w.Segment("QTY", "AA", strconv.Itoa(rej))
	}
	if acc > 0 {
		w.Segment("AMT", "YU", accAmt.String())
	}
	if rej > 0 {
		w.Segment("AMT", "YY", rejAmt.String())
	}
	hl, provHL := 2, 0
	prov := [4]string{"\x00"}
	for i := range claims {
		c := &claims[i]
		if p := c.provider(); p != prov {
			prov = p
			hl++
			provHL = hl
			w.Segment("HL", strconv.Itoa(hl), "2", "19", "1")
			typ, first := entityType(c.ProviderType, c.ProviderFirst)
			w.Segment("NM1", "85", typ, echo(c.ProviderName), echo(first), "", "", "", "XX", echo(c.ProviderNPI))
			w.Segment("TRN", "1", "0")
			var amt amount
			for j := i; j < len(claims) && claims[j].provider() == p; j++ {
				amt.add(claims[j].Charge)
			}
			w.Segment("STC", w.Composite("A1", "19", "PR"), "", "WQ", amt.String())
		}
		hl++
		w.Segment("HL", strconv.Itoa(hl), strconv.Itoa(provHL), "PT")
		w.Segment("NM1", "QC", "1", echo(c.PatientLast), echo(c.PatientFirst), "", "", "", "MI", echo(c.PatientID))
		w.Segment("TRN", "2", echo(c.ID))
		charge := echo(c.Charge) // STC04 as AMT prints amounts, when it reads as one
		if v := (amount{}); v.add(c.Charge) {
			charge = v.String()
		}
		if !c.Rejected {
			w.Segment("STC", w.Composite("A2", "20", "PR"), today, "WQ", charge)
			w.Segment("REF", "1K", c.PlanClaim())
		} else {
			stc := []string{"", today, "U", charge, "", "", "", "", "", "", ""}
			n := 0
			for _, h := range c.Hits {
				if h.Action != snip.RejectClaim || n == 3 {
					continue
				}
				e, _ := snip.Lookup(h.Edit)
				comp := w.Composite("A7", e.Status)
				ent := e.Entity()
				if stcEntities[h.Entity] {
					ent = h.Entity
				}
				if ent != "" {
					comp = w.Composite("A7", e.Status, ent)
				}
				dup := false
				for _, k := range []int{0, 9, 10} {
					dup = dup || stc[k] == comp
				}
				if dup {
					continue
				}
				stc[[]int{0, 9, 10}[n]] = comp
				n++
			}
			for len(stc) > 4 && stc[len(stc)-1] == "" {
				stc = stc[:len(stc)-1]
			}
			w.Segment("STC", stc...)
		}
		if c.Intermediary != "" {
			w.Segment("REF", "D9", echo(c.Intermediary))
		}
		if c.FromDate != "" {
			if c.ToDate == "" || c.ToDate == c.FromDate {
				w.Segment("DTP", "472", "D8", echo(c.FromDate))
			} else {
				w.Segment("DTP", "472", "RD8", echo(c.FromDate)+"-"+echo(c.ToDate))
			}
		}
	}
	return a.fail(w.EndTransaction())
}

// provider is what names the claim's billing provider in the 277CA.
func (c *Claim) provider() [4]string {
	return [4]string{c.ProviderType, c.ProviderName, c.ProviderFirst, c.ProviderNPI}
}

// entityType is the NM102 and NM104 a 277CA gives a party the 837P named
// with NM102 typ and NM104 first: a person (1) with its first name, else
// an organization (2), which has none.
func entityType(typ, first string) (string, string) {
	if typ == "1" {
		return "1", first
	}
	return "2", ""
}

// stcEntities are the entity identifier codes 005010X214 allows in 2200D
// STC01-3: a hit on the NM1 or N4 of one of these parties (82 rendering,
// 77 service facility, DN referring, DQ supervising, DK ordering, ...)
// names it in its claim's status; any other keeps the edit's own entity.
var stcEntities = map[string]bool{
	"03": true, "1P": true, "1Z": true, "40": true, "41": true, "71": true, "72": true, "73": true, "77": true,
	"82": true, "85": true, "87": true, "DK": true, "DN": true, "DQ": true, "FA": true, "GB": true, "HK": true,
	"IL": true, "LI": true, "MSC": true, "PR": true, "PRP": true, "QB": true, "QC": true, "QD": true, "SEP": true,
	"TL": true, "TTP": true, "TU": true,
}

// PlanClaim is the plan's claim number of the claim (the 277CA's REF*1K,
// the invoice number of its encounter line): AssignedNumber of its
// interchange's Batch and its Ordinal.
func (c *Claim) PlanClaim() string { return AssignedNumber(c.Batch, c.Ordinal) }

// AssignedNumber is the plan's claim number for a claim accepted from an
// interchange: the plan's number of the interchange's claims (9 digits,
// Options.ClaimBatch) and the claim's ordinal in it (6 digits), 15 digits
// in all. An ordinal past 999,999 is written whole (7 digits or more), so
// that no two claims of an interchange share a number.
func AssignedNumber(batch string, ordinal int) string {
	if ordinal > 999_999 {
		return AssignedNumber(batch, 0)[:max(9, len(batch))] + strconv.Itoa(ordinal)
	}
	var b [15]byte
	n := copy(b[max(9-len(batch), 0):9], batch)
	for i := range 9 - n {
		b[i] = '0'
	}
	o := ordinal
	for i := 14; i >= 9; i-- {
		b[i] = byte('0' + o%10)
		o /= 10
	}
	if len(batch) > 9 {
		return batch + string(b[9:])
	}
	return string(b[:])
}

// amount is a sum of amounts as sent (X12 data type R, up to six decimal
// places, as x12.ParseDecimal reads them), exact: whole units and
// millionths are added apart, so that no sum of a 277 overflows.
type amount struct{ units, micro int64 }

// add adds v; it reports whether v reads as an amount (one that does not
// adds nothing).
func (a *amount) add(v string) bool {
	n, ok := x12.ParseDecimal([]byte(v), 6)
	a.units += n / 1_000_000
	a.micro += n % 1_000_000
	return ok
}

// plus is the sum of a and b.
func (a amount) plus(b amount) amount { return amount{a.units + b.units, a.micro + b.micro} }

// String prints the amount as AMT prints amounts: no trailing zeros after
// the point, and no point for a whole amount (75.50 is 75.5).
func (a amount) String() string {
	u, m := a.units+a.micro/1_000_000, a.micro%1_000_000
	switch {
	case u > 0 && m < 0:
		u, m = u-1, m+1_000_000
	case u < 0 && m > 0:
		u, m = u+1, m-1_000_000
	}
	sign := ""
	if u < 0 || m < 0 {
		sign, u, m = "-", -u, -m
	}
	s := sign + strconv.FormatInt(u, 10)
	if m != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%06d", m), "0")
	}
	return s
}
