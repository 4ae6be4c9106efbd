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
	// Rules by descending count.
	if i, j := strings.Index(html, "CODE-NOT-ALLOWED"), strings.Index(html, "NPI-INVALID"); i < 0 || j < 0 || i > j {
		t.Error("rules not ordered by count")
	}
	empty := &Summary{RunID: 8, Started: s.Started, Files: []FileSummary{{Name: "a.csv", Rows: 1, Rejected: 1}}, ByRule: map[string]int{"X": 1}}
	buf.Reset()
	empty.WriteHTML(&buf)
	if !strings.Contains(buf.String(), "no 837 file was written") {
		t.Error("no-output page does not say so")
	}
}
