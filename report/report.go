// Package report writes the human- and machine-readable results of a
// conversion run: rejects.csv (one row per rule a line failed) and
// summary.html (counts and the first rejects, for a provider to read). Both
// name files, rows and rules; neither carries member names, IDs or dates of
// birth.
package report

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// RejectHeader is the rejects.csv header: a contract with operators.
var RejectHeader = []string{"source_file", "row", "invoice_number", "line_number", "rule_id", "field", "message"}

// Reject is one rejects.csv row.
type Reject struct {
	SourceFile    string
	Row           int
	InvoiceNumber string
	LineNumber    string
	RuleID        string
	Field         string
	Message       string
}

// RejectWriter streams rejects.csv.
type RejectWriter struct {
	w *csv.Writer
}

// NewRejectWriter writes the header and returns the writer.
func NewRejectWriter(w io.Writer) (*RejectWriter, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(RejectHeader); err != nil {
		return nil, err
	}
	return &RejectWriter{w: cw}, nil
}

// Write appends one reject. Every cell that a spreadsheet would read as a
// formula is neutralised (see Cell).
func (r *RejectWriter) Write(x Reject) error {
	return r.w.Write([]string{Cell(x.SourceFile), fmt.Sprint(x.Row), Cell(x.InvoiceNumber), Cell(x.LineNumber), x.RuleID, Cell(x.Field), Cell(x.Message)})
}

// Cell makes a value safe for a CSV that a person may open in a
// spreadsheet: a value starting with =, +, -, @, a tab or a carriage
// return would be read as a formula, so it gets a leading apostrophe (the
// OWASP recommendation for CSV injection). Other values are unchanged.
func Cell(v string) string {
	if v != "" && strings.IndexByte("=+-@\t\r", v[0]) >= 0 {
		return "'" + v
	}
	return v
}

// Flush writes buffered rows.
func (r *RejectWriter) Flush() error {
	r.w.Flush()
	return r.w.Error()
}

// FileSummary is one input file's counts.
type FileSummary struct {
	Name     string
	Format   string
	Rows     int // data rows read (blank rows are not counted)
	Accepted int // lines sent as encounter lines
	Rejected int // lines rejected (a line with several problems counts once)
}

// Summary is a run's summary.
type Summary struct {
	// Provider, when set, is the billing NPI the summary is limited to: a
	// provider's own page of a conversion.
	Provider        string
	RunID           int64
	Started         time.Time
	Finished        time.Time
	Files           []FileSummary
	ByRule          map[string]int // rejects per rule (a line may fail several rules)
	Output          string         // 837 file name, "" when no line was accepted
	Interchange     int64          // ISA13
	Claims          int
	Lines           int
	TransactionSets int
	Rejects         []Reject // the first rejects, for the page
	MoreRejects     int      // rejects not shown
}

// Totals adds up the files.
func (s *Summary) Totals() FileSummary {
	var t FileSummary
	for _, f := range s.Files {
		t.Rows += f.Rows
		t.Accepted += f.Accepted
		t.Rejected += f.Rejected
	}
	return t
}

// DuplicateRule is the rule of a line that was already sent: it is not to
// be fixed and sent again.
const DuplicateRule = "DUPLICATE-LINE"

// ToFix returns the rejects of the lines to fix and send again: every line
// that is not a duplicate of a line already sent.
func (s *Summary) ToFix() []Reject { return s.rejects(false) }

// AlreadySent returns the rejects of lines that duplicate a line already
// sent: nothing to fix, and not to be sent again.
func (s *Summary) AlreadySent() []Reject { return s.rejects(true) }

func (s *Summary) rejects(dup bool) []Reject {
	isDup := map[[2]string]bool{} // file, row
	for _, r := range s.Rejects {
		if r.RuleID == DuplicateRule {
			isDup[[2]string{r.SourceFile, fmt.Sprint(r.Row)}] = true
		}
	}
	var out []Reject
	for _, r := range s.Rejects {
		if isDup[[2]string{r.SourceFile, fmt.Sprint(r.Row)}] == dup {
			out = append(out, r)
		}
	}
	return out
}

// RuleCount is one row of the by-rule table.
type RuleCount struct {
	Rule  string
	Count int
}

// RuleCounts lists ByRule by descending count.
func (s *Summary) RuleCounts() []RuleCount {
	out := make([]RuleCount, 0, len(s.ByRule))
	for r, n := range s.ByRule {
		out = append(out, RuleCount{r, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}

var page = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("summary").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice conversion summary, run {{.RunID}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right}td.id{white-space:nowrap}.ok{color:#060}.bad{color:#a00}.none{color:#555}
</style></head><body>
<h1>Invoice conversion summary</h1>
{{if .Provider}}<p>Billing provider NPI <b>{{.Provider}}</b>: the lines of this provider only.</p>{{end}}
<p>Run {{.RunID}}, {{.Started.Format "2006-01-02 15:04:05 MST"}}.
{{with .Totals}}{{.Rows}} line(s) read: <span class="{{if .Accepted}}ok{{else}}bad{{end}}">{{.Accepted}} accepted</span>, <span class="{{if .Rejected}}bad{{else}}none{{end}}">{{.Rejected}} rejected</span>.{{end}}</p>
{{if and .Output .Provider}}<p>Encounters: {{.Lines}} service line(s) sent in <code>{{.Output}}</code> (interchange {{printf "%09d" .Interchange}}).</p>
{{else if .Output}}<p>Encounters: <code>{{.Output}}</code> — interchange {{printf "%09d" .Interchange}}, {{.TransactionSets}} transaction set(s), {{.Claims}} claim(s), {{.Lines}} service line(s).</p>
{{else}}<p class="bad">No line was accepted, so nothing was sent.</p>{{end}}
<h2>Files</h2>
<div class="scroll"><table><tr><th>File</th><th>Format</th><th>Lines read</th><th>Accepted</th><th>Rejected</th></tr>
{{range .Files}}<tr><td class="id">{{.Name}}</td><td>{{.Format}}</td><td class="n">{{.Rows}}</td><td class="n">{{.Accepted}}</td><td class="n">{{.Rejected}}</td></tr>
{{end}}</table></div>
{{if .ByRule}}<h2>Rejections by rule</h2>
<table><tr><th>Rule</th><th>Count</th></tr>
{{range .RuleCounts}}<tr><td class="id"><code>{{.Rule}}</code></td><td class="n">{{.Count}}</td></tr>
{{end}}</table>
{{with .ToFix}}<h2>Lines to fix and send again</h2>
<p>Correct these lines and send them again, in a new file. Do not send again the lines that were accepted.</p>
<div class="scroll"><table><tr><th>File</th><th>Row</th><th>Invoice</th><th>Line</th><th>Reason</th><th>Column</th><th>Rule</th></tr>
{{range .}}<tr><td class="id">{{.SourceFile}}</td><td class="n">{{.Row}}</td><td class="id">{{.InvoiceNumber}}</td><td>{{.LineNumber}}</td><td>{{.Message}}</td><td class="id">{{.Field}}</td><td class="id"><code>{{.RuleID}}</code></td></tr>
{{end}}</table></div>{{end}}
{{with .AlreadySent}}<h2>Lines already sent</h2>
<p>These lines were sent before (or earlier in this file): nothing to fix, and do not send them again.</p>
<div class="scroll"><table><tr><th>File</th><th>Row</th><th>Invoice</th><th>Line</th><th>Reason</th></tr>
{{range .}}{{if eq .RuleID "DUPLICATE-LINE"}}<tr><td class="id">{{.SourceFile}}</td><td class="n">{{.Row}}</td><td class="id">{{.InvoiceNumber}}</td><td>{{.LineNumber}}</td><td>{{.Message}}</td></tr>
{{end}}{{end}}</table></div>{{end}}
{{if .MoreRejects}}<p>{{.MoreRejects}} more in rejects.csv.</p>{{end}}
{{end}}
</body></html>
`))
})

// WriteHTML renders the summary page.
func (s *Summary) WriteHTML(w io.Writer) error { return page().Execute(w, s) }
