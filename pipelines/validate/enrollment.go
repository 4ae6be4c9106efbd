package validate

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/internal/scratch"
	"github.com/calaim-gateway/calaim-gateway/mappings/authfeed"
	"github.com/calaim-gateway/calaim-gateway/mappings/enrollment"
	"github.com/calaim-gateway/calaim-gateway/mappings/programs"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// enrollmentCheck reports the data problems `calgw ingest --kind 834`
// would skip a member for, beyond the implementation guide: no usable CIN,
// a bad date of birth or coverage date, an unknown county, a termination
// without an end date. It maps the 834 sets inside the guide's pass (as
// ingest does); in the parts of a split pass, forks hold the members with
// problems until the join numbers and writes them in file order.
type enrollmentCheck struct {
	path string
	p    *enrollment.Mapper
	out  *os.File      // the problems, until Report (nil in a fork)
	w    *bufio.Writer // on out
	held []enrollment.Member

	members, bad, problems int
	full                   bool
	err                    error
}

// maxHeldMembers bounds the members with problems a fork holds: its part
// stops there and the pass goes on from it.
const maxHeldMembers = 256

func newEnrollmentCheck(v *validator, path string) (x12Check, error) {
	cfg, rs, err := v.load()
	if err != nil {
		return nil, err
	}
	out, err := scratch.File("", "calgw-validate-*")
	if err != nil {
		return nil, err
	}
	c := &enrollmentCheck{path: path, out: out, w: bufio.NewWriterSize(out, 64<<10)}
	c.p = enrollment.New(enrollment.Options{MemberID: rs.MemberID, County: rs.Tables.CountyCode, ShareOfCostAmount: cfg.Eligibility.ShareOfCostAmount, ProblemsOnly: true})
	c.p.OnHeader = func(h *enrollment.Header) error { c.full = c.full || h.Full; return nil }
	c.p.OnMember = c.member
	return c, nil
}

func (c *enrollmentCheck) Segment(_ *ig.Txn, seg *x12.Segment) {
	if c.err == nil {
		c.err = c.p.Segment(seg)
	}
}

func (c *enrollmentCheck) End(*ig.Txn) {}

func (c *enrollmentCheck) member(m *enrollment.Member) error {
	c.members++
	if m.OK() {
		return nil
	}
	if c.w == nil { // a fork
		h := *m
		h.Change = domain.EnrollmentChange{}
		h.Problems = slices.Clone(m.Problems)
		c.held = append(c.held, h)
		return nil
	}
	c.write(m)
	return nil
}

func (c *enrollmentCheck) write(m *enrollment.Member) {
	c.bad++
	for _, pr := range m.Problems {
		c.problems++
		fmt.Fprintf(c.w, "%s: %s %s: %s: member loop %d (INS at segment %d) would be skipped: %s\n",
			c.path, pr.Pos, pr.Element, rules.EnrollmentMemberInvalid, m.Number, m.Start.Ordinal, pr.Message)
	}
}

func (c *enrollmentCheck) Fork() ig.SplitCheck {
	f := &enrollmentCheck{path: c.path, p: c.p.Fork()}
	f.p.OnMember = f.member
	return f
}

func (c *enrollmentCheck) Full() bool { return len(c.held) >= maxHeldMembers }

func (c *enrollmentCheck) Join(part ig.SplitCheck, s ig.Shift) error {
	f := part.(*enrollmentCheck)
	n := c.p.Members()
	if err := c.p.Join(f.p, s.Ordinal, s.Line); err != nil { // writes the member loop open here
		return err
	}
	for i := range f.held {
		m := &f.held[i]
		m.Shift(n, s.Ordinal, s.Line)
		c.write(m)
	}
	c.members += f.members
	if c.err == nil {
		c.err = f.err
	}
	return nil
}

// Report ends the last member loop and writes the problems and a summary.
func (c *enrollmentCheck) Report(w io.Writer) (int, error) {
	defer c.out.Close()
	if c.err == nil {
		c.err = c.p.Flush()
	}
	if c.err == nil {
		c.err = c.w.Flush()
	}
	if c.err == nil {
		_, c.err = c.out.Seek(0, io.SeekStart)
	}
	if c.err == nil {
		_, c.err = io.Copy(w, c.out)
	}
	if c.err != nil {
		return c.problems, c.err
	}
	kind := "change"
	if c.full {
		kind = "full"
	}
	fmt.Fprintf(w, "%s: 834 %s file, %d member loop(s), %d with data problems (%d problem(s))\n", c.path, kind, c.members, c.bad, c.problems)
	return c.problems, nil
}

func hasColumns(cols []string) func(h *tabular.Header) bool {
	return func(h *tabular.Header) bool {
		for _, c := range cols {
			if h.Index(c) < 0 {
				return false
			}
		}
		return true
	}
}

// tabRecord reads a tabular row by column name.
type tabRecord struct {
	h   *tabular.Header
	row tabular.Row
}

func (r tabRecord) Get(col string) string { return r.row.Cell(r.h.Index(col)) }

func validateAuthFeed(v *validator, path string, r *tabular.Reader) Status {
	_, rs, err := v.load()
	if err != nil {
		return v.fail(err)
	}
	d := &authfeed.Decoder{Coding: rs.Coding, Tables: rs.Tables, Data: rs.Data, MemberID: rs.MemberID, File: path, Spreadsheet: r.Format == tabular.XLSX, Date1904: r.Header.Date1904}
	return validateFeedRows(v, path, r, "authorization feed", func(rec authfeed.Record, row int) []authfeed.Finding {
		var a domain.Authorization
		return d.Decode(rec, row, &a)
	})
}

func validatePrograms(v *validator, path string, r *tabular.Reader) Status {
	_, rs, err := v.load()
	if err != nil {
		return v.fail(err)
	}
	d := &programs.Decoder{Exclusions: rs.Data.Exclusions, MemberID: rs.MemberID, File: path, Spreadsheet: r.Format == tabular.XLSX, Date1904: r.Header.Date1904}
	return validateFeedRows(v, path, r, "other_programs feed", func(rec authfeed.Record, row int) []authfeed.Finding {
		var p domain.ProgramSpan
		return d.Decode(rec, row, &p)
	})
}

func validateFeedRows(v *validator, path string, r *tabular.Reader, what string, decode func(authfeed.Record, int) []authfeed.Finding) Status {
	rows, bad, problems := 0, 0, 0
	for {
		if err := v.stopped(rows); err != nil {
			return v.unusable(err)
		}
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		rows++
		if re, ok := err.(*tabular.RowError); ok {
			v.printf("%s row %d: %v\n", path, re.Row, re.Err)
			bad++
			problems++
			continue
		}
		if err != nil {
			return v.unusable(err)
		}
		fs := decode(tabRecord{h: r.Header, row: row}, row.Number)
		for _, f := range fs {
			v.printf("%s %s\n", path, f)
			if !f.Warning {
				problems++
			}
		}
		if authfeed.HasError(fs) {
			bad++
		}
	}
	v.printf("%s: %s (%s), %d row(s), %d not loadable, %d problem(s)\n", path, what, r.Format, rows, bad, problems)
	if bad > 0 {
		return Invalid
	}
	return OK
}
