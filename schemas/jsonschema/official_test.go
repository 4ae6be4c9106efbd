package jsonschema_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/schemas/jsonschema"
)

// TestOfficialSuite runs the JSON-Schema-Test-Suite
// (github.com/json-schema-org/JSON-Schema-Test-Suite) when
// JSON_SCHEMA_TEST_SUITE names a checkout of it: the draft 2020-12 and
// draft-07 files of the keywords this package applies, and the optional
// format files of its formats. A group whose schema Compile refuses (a
// keyword it does not apply) is counted, not failed: refusing is the
// package's answer to such a schema. Every group it compiles must give the
// suite's verdicts.
func TestOfficialSuite(t *testing.T) {
	root := os.Getenv("JSON_SCHEMA_TEST_SUITE")
	if root == "" {
		t.Skip("JSON_SCHEMA_TEST_SUITE is not set")
	}
	files := map[string][]string{
		"draft2020-12": {"additionalProperties", "allOf", "anyOf", "boolean_schema", "const", "defs", "enum",
			"exclusiveMaximum", "exclusiveMinimum", "if-then-else", "items", "maxItems", "maxLength", "maximum",
			"minItems", "minLength", "minimum", "multipleOf", "not", "oneOf", "pattern", "prefixItems",
			"properties", "ref", "required", "type", "uniqueItems", "infinite-loop-detection", "default",
			"optional/format/date", "optional/format/date-time", "optional/format/time", "optional/format/email",
			"optional/format/uuid", "optional/format/ipv4", "optional/format/ipv6", "optional/format/uri"},
		"draft7": {"additionalItems", "additionalProperties", "allOf", "anyOf", "boolean_schema", "const",
			"definitions", "enum", "exclusiveMaximum", "exclusiveMinimum", "if-then-else", "items", "maxItems",
			"maxLength", "maximum", "minItems", "minLength", "minimum", "multipleOf", "not", "oneOf", "pattern",
			"properties", "ref", "required", "type", "uniqueItems", "infinite-loop-detection", "default"},
	}
	for draft, names := range files {
		for _, name := range names {
			path := filepath.Join(root, "tests", draft, name+".json")
			groups := readSuite(t, path)
			ran, refused := 0, 0
			for _, g := range groups {
				if m, ok := g.Schema.(map[string]any); ok && draft == "draft7" {
					if _, has := m["$schema"]; !has {
						m["$schema"] = jsonschema.Draft7
					}
				}
				d, err := jsonschema.Compile(g.Schema)
				if err != nil {
					refused++
					t.Logf("%s/%s: %s: refused: %v", draft, name, g.Description, err)
					continue
				}
				for _, tc := range g.Tests {
					ran++
					if got := d.Root().Valid(tc.Data); got != tc.Valid {
						t.Errorf("%s/%s: %s / %s: valid %v, want %v", draft, name, g.Description, tc.Description, got, tc.Valid)
					}
				}
			}
			t.Logf("%s/%s: %d tests run, %d groups refused", draft, name, ran, refused)
		}
	}
}
