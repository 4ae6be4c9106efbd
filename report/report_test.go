package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

func TestRejectWriterQuotesAndHeader(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewRejectWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Reject{SourceFile: "a,b.csv", Row: 3, InvoiceNumber: "INV-1", LineNumber: "2", RuleID: "FIELD-INVALID",
		Field: "charge_amount", Message: `charge_amount "abc" is not a money amount`})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "source_file,row,invoice_number,line_number,rule_id,field,message" {
		t.Errorf("header %v", recs[0])
	}
	if recs[1][0] != "a,b.csv" || recs[1][1] != "3" || recs[1][6] != `charge_amount "abc" is not a money amount` {
		t.Errorf("row %q", recs[1])
	}
}

func TestSummaryHTML(t *testing.T) {
	s := &Summary{RunID: 7, Started: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		Files:  []FileSummary{{Name: "<script>x</script>.csv", Format: "csv", Rows: 3, Accepted: 2, Rejected: 1}},
		ByRule: map[string]int{"NPI-INVALID": 1, "CODE-NOT-ALLOWED": 2},
		Output: "encounters-000000009.837", Interchange: 9, Claims: 1, Lines: 2, TransactionSets: 1,
		Rejects: []Reject{{SourceFile: "a.csv", Row: 2, RuleID: "NPI-INVALID", Message: "bad & wrong"}}, MoreRejects: 4}
	var buf bytes.Buffer
	if err := s.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{"2 accepted", "1 rejected", "interchange 000000009", "4 more in rejects.csv", "bad &amp; wrong", "&lt;script&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>") {
		t.Error("file name not escaped")
	}
	// IDs (file names, rule IDs) do not break mid-word: their cells do not
	// wrap, in a table that scrolls sideways.
	if !strings.Contains(html, "td.id{white-space:nowrap}") || !strings.Contains(html, `<td class="id"><code>NPI-INVALID</code></td>`) ||
		!strings.Contains(html, `<div class="scroll"><table>`) {
		t.Error("IDs may break mid-word")
	}
	// Rules by descending count.
	if i, j := strings.Index(html, "CODE-NOT-ALLOWED"), strings.Index(html, "NPI-INVALID"); i < 0 || j < 0 || i > j {
		t.Error("rules not ordered by count")
	}
	empty := &Summary{RunID: 8, Started: s.Started, Files: []FileSummary{{Name: "a.csv", Rows: 1, Rejected: 1}}, ByRule: map[string]int{"X": 1}}
	buf.Reset()
	empty.WriteHTML(&buf)
	if !strings.Contains(buf.String(), "No line was accepted, so nothing was sent") {
		t.Error("no-output page does not say so")
	}
	// Zero accepted is not shown as good news.
	if strings.Contains(buf.String(), `class="ok">0 accepted`) || !strings.Contains(buf.String(), `class="bad">0 accepted`) {
		t.Errorf("zero accepted shown green:\n%s", buf.String())
	}
}

// Lines that were already sent are not among the lines to fix and send
// again; a line with a duplicate and another problem is a duplicate.
func TestSummarySeparatesDuplicates(t *testing.T) {
	s := &Summary{RunID: 9, Files: []FileSummary{{Name: "a.csv", Rows: 3, Rejected: 3}},
		ByRule: map[string]int{"DUPLICATE-LINE": 2, "NPI-INVALID": 1, "AUTH-UNITS-EXCEEDED": 1},
		Rejects: []Reject{
			{SourceFile: "a.csv", Row: 2, RuleID: "NPI-INVALID", Message: "fix-me"},
			{SourceFile: "a.csv", Row: 3, RuleID: "DUPLICATE-LINE", Message: "sent-before"},
			{SourceFile: "a.csv", Row: 4, RuleID: "AUTH-UNITS-EXCEEDED", Message: "over-units"},
			{SourceFile: "a.csv", Row: 4, RuleID: "DUPLICATE-LINE", Message: "sent-too"},
		}}
	if got := s.ToFix(); len(got) != 1 || got[0].Row != 2 {
		t.Errorf("to fix: %+v", got)
	}
	if got := s.AlreadySent(); len(got) != 3 {
		t.Errorf("already sent: %+v", got)
	}
	var buf bytes.Buffer
	if err := s.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	fix, sent := strings.Index(html, "Lines to fix and send again"), strings.Index(html, "Lines already sent")
	if fix < 0 || sent < fix {
		t.Fatalf("sections missing or out of order:\n%s", html)
	}
	for _, m := range []string{"sent-before", "sent-too"} {
		if i := strings.Index(html, m); i < sent {
			t.Errorf("%s is not under the lines already sent", m)
		}
	}
	if i := strings.Index(html, "fix-me"); i < fix || i > sent {
		t.Error("the line to fix is not under the lines to fix")
	}
}

// A cell a spreadsheet would run as a formula is neutralised in
// rejects.csv; the page escapes every value.
func TestRejectsAreFormulaSafe(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewRejectWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"=1+1", "+SUM(A1)", "-2", "@cmd", "\tx", "\rx"} {
		w.Write(Reject{SourceFile: v, Row: 2, InvoiceNumber: v, LineNumber: v, RuleID: "FIELD-INVALID", Field: v, Message: v})
	}
	w.Write(Reject{SourceFile: "ok.csv", Row: 3, InvoiceNumber: "INV-1", LineNumber: "1", RuleID: "FIELD-INVALID", Field: "units", Message: "units 0"})
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:7] {
		for i, c := range rec {
			if i == 1 || i == 4 {
				continue // row number, rule ID: ours
			}
			if !strings.HasPrefix(c, "'") {
				t.Errorf("cell %d %q not neutralised", i, c)
			}
		}
	}
	if got := strings.Join(recs[7], ","); got != "ok.csv,3,INV-1,1,FIELD-INVALID,units,units 0" {
		t.Errorf("plain row changed: %s", got)
	}
}
