package store

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"unsafe"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// A member row holds the member's whole picture in one compact column, so
// that loading an 834 costs one statement per member. The encoding is that
// of a domain.EnrollmentChange: a stored member is a change that only
// upserts its spans (applied to nothing, it gives the member), and a change
// from a new file is merged into it inside SQLite by calgw_enroll_apply.
//
//	version byte (1)
//	flags   byte (bit 0: Replace; bit 1: the D-SNP has an end)
//	[Replace: uvarint ReplaceFrom, ReplaceTo]
//	strings: CIN, SubscriberID, LastName, FirstName, Gender, Street, City,
//	         State, Zip, County, AidCode, CaseNumber, DSNP contract, DSNP PBP
//	uvarint DOB, DSNP from, [bit 1: DSNP to]
//	uvarint op count, then per op:
//	  byte kind, uvarint From, To, End, strings PlanCode, PlanStatus,
//	  County, varint ShareOfCost, uvarint aid-code count, strings aid codes
//
// A string is a uvarint length and its bytes.

const enrollmentCodecVersion = 1

var errBadEnrollment = errors.New("store: damaged enrollment record")

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeChange appends c's encoding to b.
func encodeChange(b []byte, c *domain.EnrollmentChange) []byte {
	b = append(b, enrollmentCodecVersion)
	e := &c.Enrollee
	var flags byte
	if c.Replace {
		flags |= 1
	}
	if e.DSNP.To != 0 {
		flags |= 2
	}
	b = append(b, flags)
	if c.Replace {
		b = binary.AppendUvarint(b, uint64(c.ReplaceFrom))
		b = binary.AppendUvarint(b, uint64(c.ReplaceTo))
	}
	for _, s := range []string{e.CIN, e.SubscriberID, e.LastName, e.FirstName, e.Gender, e.Address.Street, e.Address.City,
		e.Address.State, e.Address.Zip, e.County, e.AidCode, e.CaseNumber, e.DSNP.Contract, e.DSNP.PBP} {
		b = appendStr(b, s)
	}
	b = binary.AppendUvarint(b, uint64(e.DOB))
	b = binary.AppendUvarint(b, uint64(e.DSNP.From))
	if e.DSNP.To != 0 {
		b = binary.AppendUvarint(b, uint64(e.DSNP.To))
	}
	b = binary.AppendUvarint(b, uint64(len(c.Ops)))
	for i := range c.Ops {
		op := &c.Ops[i]
		b = append(b, byte(op.Kind))
		b = binary.AppendUvarint(b, uint64(op.Span.From))
		b = binary.AppendUvarint(b, uint64(op.Span.To))
		b = binary.AppendUvarint(b, uint64(op.End))
		b = appendStr(b, op.Span.PlanCode)
		b = appendStr(b, op.Span.PlanStatus)
		b = appendStr(b, op.Span.County)
		b = binary.AppendVarint(b, int64(op.Span.ShareOfCost))
		b = binary.AppendUvarint(b, uint64(len(op.Span.AidCodes)))
		for _, a := range op.Span.AidCodes {
			b = appendStr(b, a)
		}
	}
	return b
}

// encodeState encodes a member as a change that adds its spans as they are
// (domain.SpanAdd; a member stored by an earlier release has them as
// upserts, read the same way unless two share a start date and plan code).
func encodeState(b []byte, e *domain.Enrollee, ops []domain.SpanOp) ([]byte, []domain.SpanOp) {
	ops = ops[:0]
	for _, s := range e.Spans {
		ops = append(ops, domain.SpanOp{Kind: domain.SpanAdd, Span: s})
	}
	c := domain.EnrollmentChange{Enrollee: *e, Ops: ops}
	return encodeChange(b, &c), ops
}

type decoder struct {
	b   []byte
	err bool
	// strs interns short strings (codes, counties, plan codes) so that a
	// decoded member does not allocate one string per value.
	strs map[string]string
	// alias makes strings views of b instead of copies: for the SQL
	// functions, whose result is encoded before b goes away.
	alias bool
	// arena holds the aid-code slices of the decoded ops.
	arena []string
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		d.err = true
		return ""
	}
	raw := d.b[:n]
	d.b = d.b[n:]
	if n == 0 {
		return ""
	}
	if d.alias {
		return unsafe.String(&raw[0], len(raw))
	}
	if n <= 4 && d.strs != nil {
		if s, ok := d.strs[string(raw)]; ok {
			return s
		}
		s := string(raw)
		d.strs[s] = s
		return s
	}
	return string(raw)
}

func (d *decoder) date() civil.Date { return civil.Date(d.uvarint()) }

// decodeChange decodes b into c, reusing c's slices.
func decodeChange(b []byte, c *domain.EnrollmentChange, strs map[string]string) error {
	d := &decoder{b: b, strs: strs}
	return d.change(c)
}

// change decodes d's bytes into c.
func (d *decoder) change(c *domain.EnrollmentChange) error {
	if d.byte() != enrollmentCodecVersion {
		return errBadEnrollment
	}
	ops := c.Ops[:0]
	*c = domain.EnrollmentChange{}
	flags := d.byte()
	if flags&1 != 0 {
		c.Replace = true
		c.ReplaceFrom, c.ReplaceTo = d.date(), d.date()
	}
	e := &c.Enrollee
	for _, p := range []*string{&e.CIN, &e.SubscriberID, &e.LastName, &e.FirstName, &e.Gender, &e.Address.Street, &e.Address.City,
		&e.Address.State, &e.Address.Zip, &e.County, &e.AidCode, &e.CaseNumber, &e.DSNP.Contract, &e.DSNP.PBP} {
		*p = d.str()
	}
	e.DOB, e.DSNP.From = d.date(), d.date()
	if flags&2 != 0 {
		e.DSNP.To = d.date()
	}
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		return errBadEnrollment
	}
	for range n {
		var op domain.SpanOp
		op.Kind = domain.SpanOpKind(d.byte())
		op.Span.From, op.Span.To, op.End = d.date(), d.date(), d.date()
		op.Span.PlanCode, op.Span.PlanStatus, op.Span.County = d.str(), d.str(), d.str()
		op.Span.ShareOfCost = domain.Money(d.varint())
		if k := d.uvarint(); k > 0 && k <= uint64(len(d.b)) {
			if d.alias {
				start := len(d.arena)
				for range k {
					d.arena = append(d.arena, d.str())
				}
				op.Span.AidCodes = d.arena[start:len(d.arena):len(d.arena)]
			} else {
				op.Span.AidCodes = make([]string, k)
				for j := range op.Span.AidCodes {
					op.Span.AidCodes[j] = d.str()
				}
			}
		} else if k > 0 {
			d.err = true
		}
		if d.err {
			return errBadEnrollment
		}
		ops = append(ops, op)
	}
	c.Ops = ops
	if d.err || len(d.b) != 0 {
		return errBadEnrollment
	}
	return nil
}

// decodeMember decodes a stored member.
func decodeMember(b []byte, strs map[string]string) (*domain.Enrollee, error) {
	var c domain.EnrollmentChange
	if err := decodeChange(b, &c, strs); err != nil {
		return nil, err
	}
	e := &domain.Enrollee{}
	e.Apply(&c)
	return e, nil
}

// CINKey maps a CIN to the integer the member tables are keyed by (an
// integer key is much faster in SQLite than text). A CIN of 1 to 12
// letters and digits packs into it exactly (base 37); any other string is
// hashed to a negative key, and the stored CIN is compared on every use so
// that a collision is an error, never a mix-up.
func CINKey(cin string) int64 {
	if len(cin) >= 1 && len(cin) <= 12 {
		var k int64
		ok := true
		for i := 0; i < len(cin); i++ {
			c := cin[i]
			var v int64
			switch {
			case c >= '0' && c <= '9':
				v = int64(c-'0') + 1
			case c >= 'A' && c <= 'Z':
				v = int64(c-'A') + 11
			default:
				ok = false
			}
			if !ok {
				break
			}
			k = k*37 + v
		}
		if ok {
			return k
		}
	}
	h := fnv.New64a()
	h.Write([]byte(cin))
	return -int64(h.Sum64()>>1) - 1
}
