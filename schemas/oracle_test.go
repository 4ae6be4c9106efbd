package schemas_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"testing"

	v6 "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/calaim-gateway/calaim-gateway/schemas"
)

// The gateway validates with its own draft 2020-12 validator
// (schemas/jsonschema). These tests hold it to an independent
// implementation, github.com/santhosh-tekuri/jsonschema/v6 (test-only: it
// is not linked into calgw), which passes the JSON-Schema-Test-Suite:
// on the embedded schemas, over valid documents and thousands of
// systematic breakages of them, both must give the same verdict, and every
// value our validator blames must be one that v6 blames too.

// oracle compiles one embedded schema file with v6, formats asserted (as
// the gateway asserts them).
func oracle(t *testing.T, name string) *v6.Schema {
	t.Helper()
	data, err := fs.ReadFile(schemas.FS(), name)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := v6.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := v6.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(name)
	if err != nil {
		t.Fatalf("v6 compiles %s: %v", name, err)
	}
	return s
}

// blamed lists the instance locations of v6's innermost errors.
func blamed(err error) map[string]bool {
	out := map[string]bool{}
	var ve *v6.ValidationError
	if !errors.As(err, &ve) {
		return out
	}
	var walk func(e *v6.ValidationError)
	walk = func(e *v6.ValidationError) {
		if len(e.Causes) == 0 {
			out[pointer(e.InstanceLocation)] = true
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

func pointer(toks []string) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

// breakage is one systematic change to a document: what it does, and the
// document after it.
type breakage struct {
	what string
	doc  any
}

// breakages changes each value of doc in the ways a bad builder or a
// hostile sender would: wrong types, empty and over-long strings, odd
// numbers, a deleted member, an unknown member, an emptied or repeated
// array. Every change is made to a fresh copy.
func breakages(t *testing.T, doc any) []breakage {
	t.Helper()
	var out []breakage
	replacements := []any{nil, true, json.Number("0"), json.Number("-1"), json.Number("1.5"), json.Number("1e400"),
		"", "X", "12345678A", "2026-13-45", "20261301", "20260229", "20240229", "00:00", strings.Repeat("9", 300),
		"Original", "Void", "A0B", []any{}, map[string]any{}}
	var walk func(path []string, v any)
	walk = func(path []string, v any) {
		ptr := pointer(path)
		for _, r := range replacements {
			out = append(out, breakage{fmt.Sprintf("%s = %s", ptr, show(r)), replaceAt(t, doc, path, r)})
		}
		switch x := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(x)) {
				out = append(out, breakage{"delete " + pointer(append(slices.Clone(path), k)), deleteAt(t, doc, append(slices.Clone(path), k))})
				walk(append(slices.Clone(path), k), x[k])
			}
			withExtra := copyOf(t, x).(map[string]any)
			withExtra["zzUnknown"] = "1"
			out = append(out, breakage{"unknown member in " + ptr, replaceAt(t, doc, path, withExtra)})
		case []any:
			if len(x) > 0 {
				twice := append(copyOf(t, x).([]any), copyOf(t, x[0]))
				out = append(out, breakage{"first element of " + ptr + " repeated", replaceAt(t, doc, path, twice)})
			}
			for i, e := range x {
				walk(append(slices.Clone(path), fmt.Sprint(i)), e)
			}
		}
	}
	walk(nil, doc)
	return out
}

func show(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 20 {
		return string(b[:20]) + "…"
	}
	return string(b)
}

// copyOf deep-copies a decoded JSON value.
func copyOf(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out, err := schemas.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// at walks a copy of doc to the parent of path's last token.
func at(t *testing.T, doc any, path []string, set func(parent any, last string)) any {
	t.Helper()
	root := copyOf(t, doc)
	if len(path) == 0 {
		return root
	}
	cur := root
	for _, p := range path[:len(path)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[p]
		case []any:
			var i int
			fmt.Sscan(p, &i)
			cur = c[i]
		}
	}
	set(cur, path[len(path)-1])
	return root
}

func replaceAt(t *testing.T, doc any, path []string, val any) any {
	if len(path) == 0 {
		return copyOf(t, val)
	}
	return at(t, doc, path, func(parent any, last string) {
		switch c := parent.(type) {
		case map[string]any:
			c[last] = copyOf(t, val)
		case []any:
			var i int
			fmt.Sscan(last, &i)
			c[i] = copyOf(t, val)
		}
	})
}

func deleteAt(t *testing.T, doc any, path []string) any {
	return at(t, doc, path, func(parent any, last string) {
		if c, ok := parent.(map[string]any); ok {
			delete(c, last)
		}
	})
}

// TestVerdictsAgreeWithV6 validates the committed monthly file and DHCS
// response, and every breakage of them, with both validators.
func TestVerdictsAgreeWithV6(t *testing.T) {
	set := embeddedSet(t)
	for _, tc := range []struct {
		schema, doc string
		ours        func(any) []schemas.Violation
	}{
		{schemas.MonthlyFile, "testdata/valid.json", set.ValidateMonthly},
		{schemas.ResponseFile, "testdata/response.json", set.ValidateResponse},
	} {
		t.Run(tc.schema, func(t *testing.T) {
			theirs := oracle(t, tc.schema)
			doc := load(t, tc.doc)
			cases := append([]breakage{{"as committed", doc}}, breakages(t, doc)...)
			invalid := 0
			for _, b := range cases {
				vs := tc.ours(b.doc)
				err := theirs.Validate(b.doc)
				if (len(vs) == 0) != (err == nil) {
					t.Errorf("%s: ours %d violation(s) %v; v6: %v", b.what, len(vs), vs, err)
					continue
				}
				if err == nil {
					continue
				}
				invalid++
				locs := blamed(err)
				for _, v := range vs {
					if !locs[v.Pointer] && !anyUnder(locs, v.Pointer) {
						t.Errorf("%s: ours blames %s (%s), v6 blames %v", b.what, v.Pointer, v.Keyword, slices.Sorted(maps.Keys(locs)))
					}
				}
			}
			if cases[0].doc != nil && len(tc.ours(cases[0].doc)) != 0 {
				t.Fatalf("%s is not valid", tc.doc)
			}
			// The breakages must mostly break: a schema that accepted
			// them all would make the comparison empty.
			if invalid < len(cases)/2 {
				t.Errorf("only %d of %d breakages are invalid", invalid, len(cases))
			}
			t.Logf("%d documents, %d invalid, same verdicts", len(cases), invalid)
		})
	}
}

// anyUnder reports whether v6 blames a value inside ptr (v6 may descend
// into a value our validator blames as a whole, as for oneOf).
func anyUnder(locs map[string]bool, ptr string) bool {
	for l := range locs {
		if strings.HasPrefix(l, ptr+"/") || strings.HasPrefix(ptr, l+"/") {
			return true
		}
	}
	return false
}
