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

// Write appends one reject.
func (r *RejectWriter) Write(x Reject) error {
	return r.w.Write([]string{x.SourceFile, fmt.Sprint(x.Row), x.InvoiceNumber, x.LineNumber, x.RuleID, x.Field, x.Message})
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
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left}
th{background:#f3f3f3}td.n{text-align:right}.ok{color:#060}.bad{color:#a00}
</style></head><body>
<h1>Invoice conversion summary</h1>
<p>Run {{.RunID}}, {{.Started.Format "2006-01-02 15:04:05 MST"}}.
{{with .Totals}}{{.Rows}} line(s) read: <span class="ok">{{.Accepted}} accepted</span>, <span class="bad">{{.Rejected}} rejected</span>.{{end}}</p>
{{if .Output}}<p>Encounters: <code>{{.Output}}</code> — interchange {{printf "%09d" .Interchange}}, {{.TransactionSets}} transaction set(s), {{.Claims}} claim(s), {{.Lines}} service line(s).</p>
{{else}}<p class="bad">No line was accepted, so no 837 file was written.</p>{{end}}
<h2>Files</h2>
<table><tr><th>File</th><th>Format</th><th>Lines read</th><th>Accepted</th><th>Rejected</th></tr>
{{range .Files}}<tr><td>{{.Name}}</td><td>{{.Format}}</td><td class="n">{{.Rows}}</td><td class="n">{{.Accepted}}</td><td class="n">{{.Rejected}}</td></tr>
{{end}}</table>
{{if .ByRule}}<h2>Rejections by rule</h2>
<table><tr><th>Rule</th><th>Count</th></tr>
{{range .RuleCounts}}<tr><td><code>{{.Rule}}</code></td><td class="n">{{.Count}}</td></tr>
{{end}}</table>
<h2>Rejected lines</h2>
<p>Fix these lines and send them again; lines already accepted must not be sent again.</p>
<table><tr><th>File</th><th>Row</th><th>Invoice</th><th>Line</th><th>Rule</th><th>Field</th><th>Reason</th></tr>
{{range .Rejects}}<tr><td>{{.SourceFile}}</td><td class="n">{{.Row}}</td><td>{{.InvoiceNumber}}</td><td>{{.LineNumber}}</td><td><code>{{.RuleID}}</code></td><td>{{.Field}}</td><td>{{.Message}}</td></tr>
{{end}}</table>
{{if .MoreRejects}}<p>{{.MoreRejects}} more in rejects.csv.</p>{{end}}
{{end}}
</body></html>
`))
})

// WriteHTML renders the summary page.
func (s *Summary) WriteHTML(w io.Writer) error { return page().Execute(w, s) }
