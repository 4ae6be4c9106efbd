package rules

import (
	"fmt"
	"io/fs"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// POFUnplannedStay: an inpatient stay counts toward
// POFUtilizationThreshold only when it is unplanned, by the PV1-4
// admission types of its admit and to-inpatient events
// (rules/data/adt_admission_types.csv).
const POFUnplannedStay = "POF-UNPLANNED-STAY"

// Admission type codes of adt_admission_types.csv that are not HL7 codes.
const (
	AdmissionTypeNotSent = ""  // PV1-4 absent
	AdmissionTypeOther   = "*" // a code no row names
)

// AdmissionType is one row of adt_admission_types.csv.
type AdmissionType struct {
	Code      string // PV1-4.1 upper-cased, AdmissionTypeNotSent or AdmissionTypeOther
	Unplanned bool
	From, To  civil.Date
	Source    string
}

// AdmissionTypes are the rows of adt_admission_types.csv.
type AdmissionTypes []AdmissionType

// LoadAdmissionTypes reads adt_admission_types.csv from fsys (see
// DataFS). Each code has at most one row in force on a day, and the table
// has rows for PV1-4 not sent and for any other code.
func LoadAdmissionTypes(fsys fs.FS) (AdmissionTypes, error) {
	const name = "adt_admission_types.csv"
	tab, err := readTable(fsys, name, "code", "unplanned", "effective_from", "effective_to", "source")
	if err != nil {
		return nil, err
	}
	var out AdmissionTypes
	lines := map[int]int{} // index in out → table line
	for _, r := range tab.rows {
		at := AdmissionType{Code: strings.ToUpper(strings.TrimSpace(r.Get("code"))), Source: r.Get("source")}
		if strings.ContainsAny(at.Code, " \t^~|\\&") || strings.Contains(at.Code, "*") && at.Code != AdmissionTypeOther {
			return nil, r.Errorf("code %q: want a PV1-4 code, empty (not sent) or * (any other code)", at.Code)
		}
		switch strings.ToLower(r.Get("unplanned")) {
		case "yes":
			at.Unplanned = true
		case "no":
		default:
			return nil, r.Errorf("unplanned %q: want yes or no", r.Get("unplanned"))
		}
		if at.From, at.To, err = tab.dateRange(r, "effective_from", "effective_to"); err != nil {
			return nil, err
		}
		for i, o := range out {
			if o.Code == at.Code && at.From <= openEnd(o.To) && o.From <= openEnd(at.To) {
				return nil, r.Errorf("code %q is in force on %s in the row of line %d too", at.Code, max(at.From, o.From), lines[i])
			}
		}
		lines[len(out)] = r.Line()
		out = append(out, at)
	}
	for _, code := range []string{AdmissionTypeNotSent, AdmissionTypeOther} {
		if !out.has(code) {
			return nil, fmt.Errorf("rule table %s: no row with code %q: say whether a stay with %s counts", name, code,
				map[string]string{AdmissionTypeNotSent: "no PV1-4", AdmissionTypeOther: "a code no row names"}[code])
		}
	}
	return out, nil
}

func (ts AdmissionTypes) has(code string) bool {
	for _, t := range ts {
		if t.Code == code {
			return true
		}
	}
	return false
}

// row returns the row of code in force on day, or nil.
func (ts AdmissionTypes) row(code string, day civil.Date) *AdmissionType {
	for i := range ts {
		if t := &ts[i]; t.Code == code && day >= t.From && day <= openEnd(t.To) {
			return t
		}
	}
	return nil
}

// Unplanned decides POFUnplannedStay for a stay admitted on day with the
// PV1-4 code (upper-cased; "" not sent): the row of the code in force on
// day, else, for a code sent, the row of AdmissionTypeOther. With no row
// in force (a gap in the table's dates) the stay counts, as one whose
// PV1-4 cannot show it planned. It returns the row that decided (nil
// when none did).
func (ts AdmissionTypes) Unplanned(code string, day civil.Date) (bool, *AdmissionType) {
	r := ts.row(code, day)
	if r == nil && code != AdmissionTypeNotSent {
		r = ts.row(AdmissionTypeOther, day)
	}
	if r == nil {
		return true, nil
	}
	return r.Unplanned, r
}
