package encounters

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/rules"
)

// TestEarlierLines: the lines a Checker accepted are found again by key
// with their numbers (also after many, and with long values); a key not
// added, or one sharing only the high half of an added key, is not; the
// first of two adds of a key is kept; the records are a scratch file,
// closed by close.
func TestEarlierLines(t *testing.T) {
	key := func(hi, lo uint64) (k rules.LineKey) {
		binary.BigEndian.PutUint64(k[:8], hi)
		binary.BigEndian.PutUint64(k[8:], lo)
		return k
	}
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	e := newEarlierLines()
	long := strings.Repeat("9", 300)
	for i := range uint64(40000) { // more than the map keeps in memory
		if err := e.add(key(i*7919, i), "C-"+strconv.FormatUint(i, 10), "INV"+strconv.FormatUint(i, 10), "1"); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.add(key(1, 1), "C-long", long, "12"); err != nil {
		t.Fatal(err)
	}
	if err := e.add(key(1, 1), "C-again", "INV-again", "2"); err != nil {
		t.Fatal(err)
	}
	// The records are a scratch file: nothing named in the temporary
	// directory, so nothing left behind even by a killed process.
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 0 {
		t.Errorf("the records show in the temporary directory: %v", left)
	}
	tests := []struct {
		key                      rules.LineKey
		control, invoice, lineNo string // "" control: not found
	}{
		{key(0, 0), "C-0", "INV0", "1"},
		{key(39999*7919, 39999), "C-39999", "INV39999", "1"},
		{key(7919*17, 17), "C-17", "INV17", "1"},
		{key(1, 1), "C-long", long, "12"},
		{key(7919*17, 18), "", "", ""}, // high half shared only
		{key(2, 17), "", "", ""},
	}
	for _, tt := range tests {
		p, err := e.prior(tt.key, 7)
		if err != nil {
			t.Fatal(err)
		}
		if tt.control == "" {
			if p != nil {
				t.Errorf("%x: prior %+v, want none", tt.key, p)
			}
			continue
		}
		if p == nil || p.Run != 7 || p.Control != tt.control || p.Invoice != tt.invoice || p.LineNo != tt.lineNo {
			t.Errorf("%x: prior %+v, want %s %s line %s of run 7", tt.key, p, tt.control, tt.invoice, tt.lineNo)
		}
	}
	if err := e.close(); err != nil {
		t.Fatal(err)
	}
	if e.f != nil {
		t.Error("the records' file is still open")
	}
}

// checkedErr wraps an error of the lines checked, and keeps nil nil.
func TestCheckedErr(t *testing.T) {
	if err := checkedErr(nil); err != nil {
		t.Errorf("checkedErr(nil) = %v", err)
	}
	cause := errors.New("disk full")
	err := checkedErr(cause)
	if !errors.Is(err, cause) || err.Error() != "encounters: lines checked: disk full" {
		t.Errorf("checkedErr = %v", err)
	}
}
