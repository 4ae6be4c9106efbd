package x274

import "strings"

// The DHCS composites: the production file (dhcs-observed-formats.md B7.8
// [P]) packs several DHCS fields into one element, separated by a
// semicolon: the site's N201 (12 sub-fields) and N202 (6), and REF*N5 (3
// parts). What each sub-field means is not public beyond the county.
const (
	SubFieldSeparator = ";"
	N201SubFields     = 12 // the site's N201 composite
	N202SubFields     = 6  // the site's N202 composite
	CountySubField    = 4  // N201 sub-field holding the site's two-digit county code
	QualSiteIDs       = "N5"
)

// Composite joins sub-fields with the separator; empty ones keep their place.
func Composite(parts []string) string { return strings.Join(parts, SubFieldSeparator) }

// SubField returns sub-field k (from 1) of a composite, "" when it has
// fewer.
func SubField(v string, k int) string {
	parts := strings.Split(v, SubFieldSeparator)
	if k < 1 || k > len(parts) {
		return ""
	}
	return parts[k-1]
}

// CountyCode is the site's county: N4 CY when written, else sub-field 4 of
// a composite N201, where the production file carries it.
func (s *Site) CountyCode() string {
	if s.County != "" {
		return s.County
	}
	if len(s.Names) > 0 && strings.Contains(s.Names[0], SubFieldSeparator) {
		return SubField(s.Names[0], CountySubField)
	}
	return ""
}
