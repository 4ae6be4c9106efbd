package csvtable

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReader(t *testing.T) {
	in := "# a comment\n Code ,NAME,note\nA1, first ,x\n# another\nB2,second\n\"bad,row\n"
	r, err := NewReader(strings.NewReader(in), "codes.csv", "code", "name")
	if err != nil {
		t.Fatal(err)
	}
	var kept []Row
	var errs []error
	for {
		err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		kept = append(kept, r.Row().Keep())
	}
	if len(kept) != 2 {
		t.Fatalf("%d rows, want 2", len(kept))
	}
	for i, want := range []struct {
		line             int
		code, name, note string
	}{{3, "A1", "first", "x"}, {5, "B2", "second", ""}} {
		row := kept[i]
		if row.Line() != want.line || row.Get("code") != want.code || row.Get("name") != want.name || row.Get("note") != want.note || row.Get("absent") != "" {
			t.Errorf("row %d: line %d %q %q %q, want %+v", i, row.Line(), row.Get("code"), row.Get("name"), row.Get("note"), want)
		}
	}
	if got := kept[1].Errorf("code %q is unknown", "B2").Error(); got != `codes.csv line 5: code "B2" is unknown` {
		t.Errorf("Errorf: %s", got)
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "codes.csv: ") {
		t.Errorf("errors %v, want one about the malformed row, naming the table", errs)
	}
}

func TestReaderHeader(t *testing.T) {
	if _, err := NewReader(strings.NewReader("code,name\n"), "t.csv", "code", "unit"); err == nil || err.Error() != `t.csv: missing column "unit"` {
		t.Errorf("missing column: %v", err)
	}
	if _, err := NewReader(strings.NewReader(""), "t.csv"); !errors.Is(err, io.EOF) || !strings.HasPrefix(err.Error(), "t.csv: header: ") {
		t.Errorf("empty table: %v", err)
	}
}
