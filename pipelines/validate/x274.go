package validate

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
)

// reMonth is the reporting period in ISA02: YYMM as in DHCS's production
// file (dhcs-observed-formats.md B7.2 [P]) or CCYYMM.
var reMonth = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(20)?[0-9]{2}(0[1-9]|1[0-2])$`) })

// check274 adds the data-level checks of a DHCS provider network file to
// the table's: the reporting month in ISA02 (with ISA01 03), contract
// dates in order, one county per file, no site twice. Structure, counts,
// control numbers and NPI check digits are the table's findings.
func check274(_ context.Context, _ *validator, path string, w io.Writer) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	file, err := x274.Read(f)
	if err != nil {
		fmt.Fprintf(w, "%s: 274 data checks skipped: %v\n", path, err)
		return 0, nil
	}
	problems := 0
	bad := func(format string, a ...any) {
		problems++
		fmt.Fprintf(w, "%s: %s\n", path, fmt.Sprintf(format, a...))
	}
	if file.AuthQualifier == "03" && !reMonth().MatchString(file.AuthInfo) {
		bad("ISA02 %q is not a reporting period YYMM or CCYYMM (the DHCS file carries it with ISA01 03)", file.AuthInfo)
	}
	// A file for an HCP code (ISA06 TIN + HCP code, 12 characters) holds
	// the sites of every county of that code; otherwise one county per file.
	perHCP := len(file.SenderID) == 12 && file.GroupSender == file.SenderID[:9]
	county := ""
	seen := map[string]int64{}
	for _, s := range file.Sites() {
		at := fmt.Sprintf("segment %d (line %d) loop 2000D site NPI %s", s.Ordinal, s.Line, s.NPI)
		if s.From == 0 {
			bad("%s: no contract effective date (DTP*092)", at)
		}
		if s.To != 0 && s.To < s.From {
			bad("%s: contract expiration %s is before the effective date %s", at, s.To, s.From)
		}
		switch c := s.CountyCode(); {
		case c == "":
			bad("%s: no county (N2 N201 sub-field %d, or N4 N405 CY, N406)", at, x274.CountySubField)
		case county == "":
			county = c
		case c != county && !perHCP:
			bad("%s: county %s in a file for county %s: DHCS takes one file per county", at, c, county)
		}
		k := s.NPI + "|" + s.Address.Street + "|" + s.Address.Zip
		if first, dup := seen[k]; dup {
			bad("%s: the same site (NPI and address) as at segment %d", at, first)
		} else {
			seen[k] = s.Ordinal
		}
	}
	return problems, nil
}
