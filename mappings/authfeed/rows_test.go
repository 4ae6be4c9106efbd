package authfeed

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
)

// TestRowsWithinLimits reads feeds within limits set low: a JSON line or a
// CSV record longer than MaxRecordBytes, or a CSV record wider than
// MaxColumns, stops the reading with a *tabular.LimitError naming the line
// and the limit, after the rows before it were read.
func TestRowsWithinLimits(t *testing.T) {
	dir := t.TempDir()
	obj := `{"authorization_number": "A-1", "service": "ECM"}`
	cases := []struct {
		name, body string
		want       string
	}{
		{"long.jsonl", obj + "\n\n" + `{"note": "` + strings.Repeat("z", 300) + `"}` + "\n" + obj + "\n",
			"jsonl line 3: a record longer than 200 bytes (MaxRecordBytes, limits.csv_record_bytes)"},
		{"long.csv", "authorization_number,service\nA-1,ECM\nA-2," + strings.Repeat("z", 300) + "\n",
			"csv line 3: a record longer than 200 bytes (MaxRecordBytes, limits.csv_record_bytes)"},
		{"wide.csv", "authorization_number,service\nA-1,ECM\n" + strings.Repeat(",", 20) + "\n",
			"csv line 3: more than 10 fields in one record (MaxColumns, limits.fields_per_row)"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.body), 0o600); err != nil {
			t.Fatal(err)
		}
		rows, err := OpenRowsWith(p, &tabular.Options{MaxRecordBytes: 200, MaxColumns: 10})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		read := 0
		for {
			_, _, err = rows.Next()
			if err != nil {
				break
			}
			read++
		}
		rows.Close()
		var le *tabular.LimitError
		if !errors.As(err, &le) || err.Error() != c.want || read != 1 {
			t.Errorf("%s: %d row(s) read, then %v; want 1, then %q", c.name, read, err, c.want)
		}
	}
	// Within the defaults the long JSON line is a row like any other.
	p := filepath.Join(dir, "long.jsonl")
	rows, err := OpenRows(p)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for {
		_, _, err := rows.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("defaults: %v", err)
		}
		n++
	}
	if n != 3 {
		t.Errorf("defaults: %d rows, want 3", n)
	}
}

// TestJSONLineHoldsOneObject reads lines that hold one object, with or
// without blanks around it, and lines with anything after the object (a
// second object, stray text): each of those is a damaged row, reported,
// never a row whose rest is dropped.
func TestJSONLineHoldsOneObject(t *testing.T) {
	obj := `{"authorization_number": "A-1", "service": "ECM"}`
	cases := []struct {
		name, line string
		damaged    bool
	}{
		{"one object", obj, false},
		{"blanks around it", " \t" + obj + " \t", false},
		{"two objects", obj + `{"authorization_number": "A-2", "service": "ECM"}`, true},
		{"two objects with a space", obj + ` {"authorization_number": "A-2"}`, true},
		{"text after the object", obj + " x", true},
		{"a number after the object", obj + " 1", true},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "feed.jsonl")
			if err := os.WriteFile(p, []byte(c.line+"\n"+obj+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			rows, err := OpenRows(p)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			rec, n, err := rows.Next()
			var re *RowError
			if got := errors.As(err, &re); got != c.damaged || n != 1 {
				t.Fatalf("line %d: damaged %v (%v), want %v", n, got, err, c.damaged)
			}
			if !c.damaged && rec.Get(ColNumber) != "A-1" {
				t.Errorf("authorization_number %q", rec.Get(ColNumber))
			}
			if _, n, err := rows.Next(); err != nil || n != 2 {
				t.Errorf("the next line: %d, %v", n, err)
			}
			if _, _, err := rows.Next(); err != io.EOF {
				t.Errorf("after the last line: %v", err)
			}
		})
	}
}
