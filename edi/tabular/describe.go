package tabular

import (
	"fmt"
	"strings"
)

// Describe says what a header holds without echoing what it does not
// recognise: a file without a header row has a data row there (member IDs,
// names, dates), which must never reach a message or a log. It names the
// header's cells that are column names of known (the templates' columns)
// and counts the others.
func (h *Header) Describe(known ...[]string) string { return DescribeNames(h.Names, known...) }

// DescribeNames is Describe for the column names of any header.
func DescribeNames(header []string, known ...[]string) string {
	isKnown := map[string]bool{}
	for _, list := range known {
		for _, c := range list {
			isKnown[strings.ToLower(c)] = true
		}
	}
	var names []string
	others := 0
	for _, n := range header {
		switch k := strings.ToLower(strings.TrimSpace(n)); {
		case k == "":
		case isKnown[k]:
			names = append(names, k)
		default:
			others++
		}
	}
	switch {
	case len(names) == 0 && others == 0:
		return "an empty first row"
	case len(names) == 0:
		return fmt.Sprintf("%d column(s), none of them a template column name: is the header row missing? (their values are not shown: they may be member data)", others)
	case others == 0:
		return "the columns " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("the columns %s and %d other column(s) (not shown)", strings.Join(names, ", "), others)
}
