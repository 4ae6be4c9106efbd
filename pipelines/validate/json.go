package validate

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/schemas"
)

// jsonKind is a JSON file calgw can check against the schemas in force
// (the embedded ones, or those of schemas_dir). detect looks at the
// document's first member name; the first kind that claims it validates
// the file.
type jsonKind struct {
	name     string
	detect   func(firstKey string) bool
	validate func(v *validator, path string, set *schemas.Set) Status
}

// jsonKinds lists the JSON kinds, in the order they are offered a file.
var jsonKinds = []jsonKind{
	{name: "monthly monitoring submission", detect: isMonthly, validate: validateMonthly},
	{name: "DHCS response", detect: isDHCSResponse, validate: validateDHCSResponse},
}

// isMonthly: the header, or a data set, comes first (the gateway writes the
// data sets first and the header last).
func isMonthly(k string) bool { return k == "header" || slices.Contains(schemas.DataSets, k) }

// isDHCSResponse: a member of DHCS's response model comes first.
func isDHCSResponse(k string) bool {
	return slices.Contains([]string{"fileName", "fileType", "submitterName", "submissionDate", "validationStatus", "schemaVersion", "levels", "responseHierarchy"}, k)
}

// firstKey returns the name of a JSON document's first member.
func firstKey(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return "", fmt.Errorf("not a JSON object (offset %d)", dec.InputOffset())
	}
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("offset %d: %w", dec.InputOffset(), err)
	}
	k, _ := tok.(string)
	return k, nil
}

// schemaSet returns the schemas in force (schemas_dir, else ours), and
// ours when they differ (nil when the schemas in force are ours).
func (v *validator) schemaSet() (inForce, ours *schemas.Set, err error) {
	cfg, _, err := v.load()
	if err != nil {
		return nil, nil, err
	}
	if inForce, err = schemas.Load(cfg.SchemasDir); err != nil {
		return nil, nil, err
	}
	if cfg.SchemasDir == "" {
		return inForce, nil, nil
	}
	ours, err = schemas.Embedded()
	return inForce, ours, err
}

func (v *validator) validateJSON(path string) Status {
	k, err := firstKey(path)
	if err != nil {
		return v.unusable(fmt.Errorf("%s: %w", path, err))
	}
	for _, jk := range jsonKinds {
		if jk.detect(k) {
			set, ours, err := v.schemaSet()
			if err != nil {
				return v.fail(err)
			}
			st := jk.validate(v, path, set)
			if ours != nil && jk.name == jsonKinds[0].name {
				for _, m := range schemas.Compare(ours, set) {
					v.printf("%s: schemas_dir: the gateway's builder and %s differ: %s\n", path, set.Origin[schemas.MonthlyFile], m)
				}
			}
			return st
		}
	}
	names := make([]string, len(jsonKinds))
	for i, jk := range jsonKinds {
		names[i] = jk.name
	}
	return v.unusable(fmt.Errorf("%s: a JSON document whose first member %q is none of a known kind (%s)", path, k, strings.Join(names, ", ")))
}

// validateMonthly streams the file (schemas.ValidateMonthlyStream): each
// violation with its JSON pointer and keyword.
func validateMonthly(v *validator, path string, set *schemas.Set) Status {
	f, err := os.Open(path)
	if err != nil {
		return v.unusable(err)
	}
	defer f.Close()
	n := 0
	records, err := set.ValidateMonthlyStream(f, func(x schemas.Violation) {
		n++
		v.printf("%s: %s\n", path, x)
	})
	if err != nil {
		return v.unusable(fmt.Errorf("%s: %w", path, err))
	}
	v.printf("%s: monthly monitoring submission (schema %s), %d record(s), %d violation(s)\n", path, set.Origin[schemas.MonthlyFile], records, n)
	if n > 0 {
		return Invalid
	}
	return OK
}

func validateDHCSResponse(v *validator, path string, set *schemas.Set) Status {
	data, err := os.ReadFile(path)
	if err != nil {
		return v.unusable(err)
	}
	doc, err := schemas.Decode(data)
	if err != nil {
		return v.unusable(fmt.Errorf("%s: %w", path, err))
	}
	vs := set.ValidateResponse(doc)
	for _, x := range vs {
		v.printf("%s: %s\n", path, x)
	}
	v.printf("%s: DHCS response (schema %s), %d violation(s)\n", path, set.Origin[schemas.ResponseFile], len(vs))
	if len(vs) > 0 {
		return Invalid
	}
	return OK
}
