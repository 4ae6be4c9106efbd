package inbound837

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/scratch"
	"github.com/calaim-gateway/calaim-gateway/report"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// ReportHeader is the header of the provider's CSV report.
var ReportHeader = []string{"source_file", "transaction_set", "claim_id", "status", "edit_id", "snip_level",
	"line", "segment", "problem", "what_to_change"}

// Report writes the provider-readable report of one inbound file as CSV and
// HTML: one row per accepted claim, one per edit a claim or set failed, in
// plain words with the segment shown and what to change. The rows of an
// interchange wait in a temporary file until its end (End, Withdrawn), so
// that a claim of a group or interchange rejected at its GE or IEA is shown
// rejected, not accepted, and memory stays flat however long the
// interchange. The report goes back to the provider that sent the file; it
// is never logged.
type Report struct {
	file string
	csv  *csv.Writer
	html *bufio.Writer
	err  error

	spool     *os.File // the rows not yet written, once there is one
	sw        *bufio.Writer
	rows      int          // rows in the spool
	groupAt   int          // the current group's first row in the spool
	withdrawn []withdrawal // the spool's rows of rejected groups and interchanges
	rec       []byte

	accepted, rejected, setsRejected int
	// Sets accepted since the group (interchange) began, rejected after
	// all when it is withdrawn.
	grpSets, icSets int
}

// withdrawal is the spool's rows [from, to) of a group or interchange
// rejected at its end.
type withdrawal struct {
	from, to int
	scope    string
}

// reportFields are a row's cells after the source file: set, claim,
// status, edit ID, SNIP level, line, segment, problem, what to change.
const reportFields = 9

// NewReport starts the report of file on csvOut and htmlOut.
func NewReport(file string, csvOut, htmlOut io.Writer) (*Report, error) {
	r := &Report{file: file, csv: csv.NewWriter(csvOut), html: bufio.NewWriterSize(htmlOut, 64<<10)}
	if err := r.csv.Write(ReportHeader); err != nil {
		return nil, fmt.Errorf("inbound837 report: %w", err)
	}
	_, err := fmt.Fprintf(r.html, `<!doctype html><html><head><meta charset="utf-8"><title>837P %s: what was accepted</title>
<style>body{font-family:sans-serif}td,th{border:1px solid #ccc;padding:4px;vertical-align:top}table{border-collapse:collapse}code{white-space:pre-wrap}</style></head><body>
<h1>Your 837P file %s</h1>
<table><tr><th>Set</th><th>Claim (CLM01)</th><th>Status</th><th>Edit</th><th>Line</th><th>Segment</th><th>Problem</th><th>What to change</th></tr>
`, html.EscapeString(file), html.EscapeString(file))
	if err != nil {
		return nil, fmt.Errorf("inbound837 report: %w", err)
	}
	return r, nil
}

// row spools a row.
func (r *Report) row(set, claim, status string, h *Hit) {
	if r.err != nil {
		return
	}
	var id, level, line, seg, plain, fix string
	if h != nil {
		e, _ := snip.Lookup(h.Edit)
		id, level, line, plain, fix = h.Edit, strconv.Itoa(int(h.Level)), strconv.FormatInt(h.Line, 10), e.Plain, e.Fix
		if h.Edit == "" { // an envelope's rejection (Withdrawn): its message says it all
			level, line, plain, h.Msg = "", "", h.Msg, ""
		}
		seg = h.Segment
		if h.Element > 0 {
			seg = fmt.Sprintf("%s%02d", h.Segment, h.Element)
		}
		if h.Text != "" {
			seg += ": " + h.Text
		}
		if h.Msg != "" {
			plain += " (" + h.Msg + ")"
		}
	}
	if r.spool == nil {
		f, err := scratch.File("", "calgw-report-")
		if err != nil {
			r.err = err
			return
		}
		r.spool, r.sw = f, bufio.NewWriterSize(f, 64<<10)
	}
	r.rec = r.rec[:0]
	for _, v := range [reportFields]string{set, claim, status, id, level, line, seg, plain, fix} {
		r.rec = appendSpoolString(r.rec, v)
	}
	_, r.err = r.sw.Write(r.rec)
	r.rows++
}

// End ends a group (interchange false) or an interchange accepted at its
// GE or IEA; an interchange's rows are written then.
func (r *Report) End(interchange bool) error {
	if interchange {
		r.grpSets, r.icSets = 0, 0
		return r.emit()
	}
	r.icSets += r.grpSets
	r.grpSets = 0
	r.groupAt = r.rows
	return r.err
}

// emit writes the spooled rows, those of a withdrawn group or interchange
// shown rejected, and empties the spool.
func (r *Report) emit() error {
	if r.err != nil || r.rows == 0 {
		return r.err
	}
	if r.err = r.sw.Flush(); r.err != nil {
		return r.err
	}
	if _, r.err = r.spool.Seek(0, io.SeekStart); r.err != nil {
		return r.err
	}
	rd := &spoolReader{r: bufio.NewReaderSize(r.spool, 64<<10)}
	var f [reportFields]string
	for row := range r.rows {
		for i := range f {
			v, err := rd.string()
			if err != nil {
				r.err = fmt.Errorf("report spool: %w", err)
				return r.err
			}
			f[i] = v
		}
		for _, w := range r.withdrawn {
			if row >= w.from && row < w.to {
				if rest, ok := strings.CutPrefix(f[2], "accepted"); ok {
					f[2] = "rejected (" + w.scope + " rejected)" + rest
				}
				break
			}
		}
		r.write(f)
		if r.err != nil {
			return r.err
		}
	}
	if r.err = rewind(r.spool, 0); r.err != nil {
		return r.err
	}
	r.sw.Reset(r.spool)
	r.rows, r.groupAt, r.withdrawn = 0, 0, r.withdrawn[:0]
	return nil
}

// write writes a row's cells to both reports.
func (r *Report) write(f [reportFields]string) {
	rec := []string{r.file, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]}
	for i := range rec {
		rec[i] = report.Cell(rec[i])
	}
	if err := r.csv.Write(rec); err != nil {
		r.err = err
		return
	}
	w := r.html
	// The HTML shows no SNIP level.
	for i, v := range [...]string{f[0], f[1], f[2], f[3], f[5], f[6], f[7], f[8]} {
		switch i {
		case 0:
			w.WriteString("<tr><td>")
		case 5:
			w.WriteString("</td><td><code>")
		case 6:
			w.WriteString("</code></td><td>")
		default:
			w.WriteString("</td><td>")
		}
		w.WriteString(html.EscapeString(v))
	}
	_, r.err = w.WriteString("</td></tr>\n")
}

// Discard frees the spool (a scratch file); Close does it too.
func (r *Report) Discard() error {
	if r.spool == nil {
		return nil
	}
	err := r.spool.Close()
	r.spool = nil
	return err
}

// Claim adds a claim's rows: accepted, or one row per edit it failed.
func (r *Report) Claim(c *Claim) error {
	status := "accepted"
	if c.Rejected {
		status = "rejected"
		r.rejected++
	} else {
		r.accepted++
	}
	if len(c.Hits) == 0 {
		r.row(c.Set, c.ID, status, nil)
	}
	for i := range c.Hits {
		st := status
		if c.Hits[i].Action == snip.Warn {
			st += " (warning)"
		}
		r.row(c.Set, c.ID, st, &c.Hits[i])
	}
	return r.err
}

// Set adds the rows of the edits a transaction set failed as a whole.
func (r *Report) Set(s *SetResult) error {
	if s.Status == 'R' {
		r.setsRejected++
	} else {
		r.grpSets++
	}
	for i := range s.Hits {
		status := "set rejected"
		if s.Hits[i].Action == snip.Warn {
			status = "warning"
		}
		r.row(s.Control, "", status, &s.Hits[i])
	}
	return r.err
}

// Withdrawn adds the row of a group ("group") or interchange
// ("interchange") rejected at its end, after its claims' rows: every claim
// of it is rejected, accepted of them counted as accepted before.
func (r *Report) Withdrawn(scope string, accepted int) error {
	r.accepted -= accepted
	r.rejected += accepted
	r.setsRejected += r.grpSets
	r.grpSets = 0
	from := r.groupAt
	if scope != "group" {
		from = 0
		r.setsRejected += r.icSets
		r.icSets = 0
	}
	r.withdrawn = append(r.withdrawn, withdrawal{from, r.rows, scope})
	h := Hit{Segment: "IEA", Msg: "the interchange was rejected as a whole, at its ISA or IEA (the TA1 says why): every claim of the interchange above is rejected, none was accepted; send it again"}
	if scope == "group" {
		h = Hit{Segment: "GE", Msg: "the group was rejected as a whole, at its GS or GE (the 999's AK9 says why, or the TA1 when the interchange was rejected too): every claim of the group above is rejected, none was accepted; send it again"}
	}
	r.row("", "", scope+" rejected", &h)
	if scope != "group" {
		return r.emit()
	}
	r.groupAt = r.rows
	return r.err
}

// Close writes the totals and flushes both reports.
func (r *Report) Close() error {
	r.emit()
	if err := r.Discard(); err != nil && r.err == nil {
		r.err = err
	}
	if r.err != nil {
		return fmt.Errorf("inbound837 report: %w", r.err)
	}
	r.csv.Flush()
	if err := r.csv.Error(); err != nil {
		return fmt.Errorf("inbound837 report: %w", err)
	}
	_, err := fmt.Fprintf(r.html, "</table>\n<p>%d claim(s) accepted, %d rejected; %d transaction set(s) rejected whole.</p></body></html>\n",
		r.accepted, r.rejected, r.setsRejected)
	if err == nil {
		err = r.html.Flush()
	}
	if err != nil {
		return fmt.Errorf("inbound837 report: %w", err)
	}
	return nil
}
