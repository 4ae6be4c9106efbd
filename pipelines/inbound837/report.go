package inbound837

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"html"
	"io"
	"strconv"

	"github.com/calaim-gateway/calaim-gateway/report"
	"github.com/calaim-gateway/calaim-gateway/rules/snip"
)

// ReportHeader is the header of the provider's CSV report.
var ReportHeader = []string{"source_file", "transaction_set", "claim_id", "status", "edit_id", "snip_level",
	"line", "segment", "problem", "what_to_change"}

// Report writes the provider-readable report of one inbound file as CSV and
// HTML, row by row as claims and sets are edited: one row per accepted claim,
// one per edit a claim or set failed, in plain words with the segment shown
// and what to change. The report goes back to the provider that sent the
// file; it is never logged.
type Report struct {
	file string
	csv  *csv.Writer
	html *bufio.Writer
	err  error

	accepted, rejected, setsRejected int
}

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
	rec := []string{r.file, set, claim, status, id, level, line, seg, plain, fix}
	for i := range rec {
		rec[i] = report.Cell(rec[i])
	}
	if err := r.csv.Write(rec); err != nil {
		r.err = err
		return
	}
	w := r.html
	for i, v := range [...]string{set, claim, status, id, line, seg, plain, fix} {
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
	h := Hit{Segment: "IEA", Msg: "the interchange's IEA does not match its ISA or its groups (see the TA1): every claim of the interchange above is rejected, none was accepted; send it again"}
	if scope == "group" {
		h = Hit{Segment: "GE", Msg: "the group's GE does not match its GS or its transaction sets (see the 999's AK9): every claim of the group above is rejected, none was accepted; send it again"}
	}
	r.row("", "", scope+" rejected", &h)
	return r.err
}

// Close writes the totals and flushes both reports.
func (r *Report) Close() error {
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
