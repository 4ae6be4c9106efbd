package jsonschema_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	v6 "github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/calaim-gateway/calaim-gateway/schemas/jsonschema"
)

func decode(t *testing.T, text string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return v
}

func compile(t *testing.T, schema string) *jsonschema.Schema {
	t.Helper()
	d, err := jsonschema.Compile(decode(t, schema))
	if err != nil {
		t.Fatalf("%s: %v", schema, err)
	}
	return d.Root()
}

// suiteGroup is one schema of a file in the JSON-Schema-Test-Suite layout,
// with its data and verdicts.
type suiteGroup struct {
	Description string
	Schema      any
	Tests       []struct {
		Description string
		Data        any
		Valid       bool
	}
}

// readSuite reads a file in the JSON-Schema-Test-Suite layout, numbers kept
// exact.
func readSuite(t *testing.T, path string) []suiteGroup {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var groups []suiteGroup
	if err := dec.Decode(&groups); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return groups
}

// TestSuite runs testdata/suite.json, cases in the JSON-Schema-Test-Suite
// layout written for the keywords this package applies: each schema
// against each datum, the verdict as stated. Validate and Valid must agree,
// and a failing Validate names at least one violation. Each stated verdict
// is also the one github.com/santhosh-tekuri/jsonschema/v6 (an independent
// implementation that passes the JSON-Schema-Test-Suite; test-only) gives.
func TestSuite(t *testing.T) {
	ran := 0
	for i, g := range readSuite(t, "testdata/suite.json") {
		d, err := jsonschema.Compile(g.Schema)
		if err != nil {
			t.Errorf("%s: %v", g.Description, err)
			continue
		}
		c := v6.NewCompiler()
		c.AssertFormat()
		url := fmt.Sprintf("suite-%d.json", i)
		if err := c.AddResource(url, g.Schema); err != nil {
			t.Fatal(err)
		}
		oracle, err := c.Compile(url)
		if err != nil {
			t.Errorf("%s: v6 refuses the schema: %v", g.Description, err)
			continue
		}
		for _, tc := range g.Tests {
			ran++
			vs := d.Root().Validate(tc.Data, "")
			if got := len(vs) == 0; got != tc.Valid {
				t.Errorf("%s / %s: valid %v, want %v (%v)", g.Description, tc.Description, got, tc.Valid, vs)
			}
			if got := d.Root().Valid(tc.Data); got != tc.Valid {
				t.Errorf("%s / %s: Valid %v, want %v", g.Description, tc.Description, got, tc.Valid)
			}
			if got := oracle.Validate(tc.Data) == nil; got != tc.Valid {
				t.Errorf("%s / %s: v6 says valid %v, the suite says %v", g.Description, tc.Description, got, tc.Valid)
			}
		}
	}
	if ran < 100 {
		t.Errorf("only %d cases ran", ran)
	}
}

// Each failing keyword is reported once, at the instance's JSON pointer,
// under its own name.
func TestViolationPointerAndKeyword(t *testing.T) {
	for _, tc := range []struct {
		name, schema, data string
		want               []string // "pointer keyword"
	}{
		{"type", `{"type":"string"}`, `1`, []string{" type"}},
		{"enum", `{"properties":{"s":{"enum":["A","B"]}}}`, `{"s":"C"}`, []string{"/s enum"}},
		{"const", `{"items":{"const":1}}`, `[1,2]`, []string{"/1 const"}},
		{"required names the object", `{"properties":{"o":{"required":["a","b"]}}}`, `{"o":{}}`, []string{"/o required"}},
		{"additionalProperties false names the object", `{"properties":{"a":{}},"additionalProperties":false}`, `{"a":1,"b":2,"c":3}`, []string{" additionalProperties"}},
		{"additionalProperties schema names the member", `{"additionalProperties":{"type":"null"}}`, `{"x":1}`, []string{"/x type"}},
		{"prefixItems", `{"prefixItems":[{"type":"string"}]}`, `[1]`, []string{"/0 type"}},
		{"items false", `{"prefixItems":[{}],"items":false}`, `[1,2]`, []string{"/1 false"}},
		{"minItems", `{"minItems":2}`, `[1]`, []string{" minItems"}},
		{"maxItems", `{"maxItems":0}`, `[1]`, []string{" maxItems"}},
		{"uniqueItems", `{"uniqueItems":true}`, `["a","a"]`, []string{" uniqueItems"}},
		{"pattern", `{"pattern":"^a$"}`, `"b"`, []string{" pattern"}},
		{"format", `{"format":"date-time"}`, `"yesterday"`, []string{" format"}},
		{"minLength", `{"minLength":2}`, `"a"`, []string{" minLength"}},
		{"maxLength", `{"maxLength":1}`, `"ab"`, []string{" maxLength"}},
		{"minimum", `{"minimum":0}`, `-1`, []string{" minimum"}},
		{"maximum", `{"maximum":0}`, `1`, []string{" maximum"}},
		{"exclusiveMinimum", `{"exclusiveMinimum":0}`, `0`, []string{" exclusiveMinimum"}},
		{"exclusiveMaximum", `{"exclusiveMaximum":0}`, `0`, []string{" exclusiveMaximum"}},
		{"multipleOf", `{"multipleOf":2}`, `3`, []string{" multipleOf"}},
		{"$ref reports the target's keyword", `{"$defs":{"d":{"pattern":"^x$"}},"properties":{"a":{"$ref":"#/$defs/d"}}}`, `{"a":"y"}`, []string{"/a pattern"}},
		{"allOf reports each part", `{"allOf":[{"type":"string"},{"type":"array"}]}`, `1`, []string{" type", " type"}},
		{"anyOf is one violation", `{"anyOf":[{"type":"string"},{"type":"array"}]}`, `1`, []string{" anyOf"}},
		{"oneOf of none is one violation", `{"oneOf":[{"type":"string"},{"type":"null"}]}`, `1`, []string{" oneOf"}},
		{"oneOf of two", `{"oneOf":[{"type":"integer"},{"minimum":0}]}`, `1`, []string{" oneOf"}},
		{"not", `{"not":{"type":"integer"}}`, `1`, []string{" not"}},
		{"then reports its keyword", `{"if":{"required":["t"]},"then":{"required":["p"]}}`, `{"t":1}`, []string{" required"}},
		{"else reports its keyword", `{"if":{"required":["t"]},"else":{"not":{"required":["p"]}}}`, `{"p":1}`, []string{" not"}},
		{"pointer escapes ~ and /", `{"properties":{"a/b~c":{"type":"null"}}}`, `{"a/b~c":1}`, []string{"/a~1b~0c type"}},
		{"several in property-name order", `{"properties":{"b":{"type":"null"},"a":{"type":"null"}}}`, `{"a":1,"b":1}`, []string{"/a type", "/b type"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vs := compile(t, tc.schema).Validate(decode(t, tc.data), "")
			var got []string
			for _, v := range vs {
				got = append(got, v.Pointer+" "+v.Keyword)
				if v.Message == "" {
					t.Errorf("%v: no message", v)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q (%v)", got, tc.want, vs)
			}
		})
	}
}

// Messages say what the schema wants without quoting the value (a CIN or
// a name must not reach a log through them).
func TestMessagesDoNotQuoteTheValue(t *testing.T) {
	const secret = "91234567Z"
	for _, schema := range []string{`{"pattern":"^[0-9]{10}$"}`, `{"enum":["A"]}`, `{"maxLength":3}`, `{"format":"date"}`,
		`{"oneOf":[{"type":"null"},{"pattern":"^x$"}]}`, `{"type":"integer"}`, `{"not":{"type":"string"}}`, `{"const":"A"}`} {
		for _, v := range compile(t, schema).Validate(secret, "/cin") {
			if strings.Contains(v.String(), secret) {
				t.Errorf("%s: %v", schema, v)
			}
		}
	}
}

func TestPrefix(t *testing.T) {
	vs := compile(t, `{"properties":{"cin":{"pattern":"^[0-9]{8}[A-Z]$"}}}`).Validate(decode(t, `{"cin":"1"}`), "/ecmEnrollment/7")
	if len(vs) != 1 || vs[0].Pointer != "/ecmEnrollment/7/cin" || vs[0].String() != "/ecmEnrollment/7/cin: pattern: does not match ^[0-9]{8}[A-Z]$" {
		t.Errorf("%v", vs)
	}
}

// A schema the validator cannot apply in full is refused at Compile,
// the error naming the JSON pointer of the keyword at fault.
func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name, schema, want string
	}{
		{"unknown keyword", `{"properties":{"a":{"patternProperties":{"^x":{}}}}}`, `#/properties/a/patternProperties: keyword "patternProperties" is not supported`},
		{"unknown keyword in $defs", `{"$defs":{"d":{"dependentRequired":{}}}}`, `#/$defs/d/dependentRequired: keyword "dependentRequired"`},
		{"unknown keyword under items", `{"items":{"contains":{}}}`, `#/items/contains: keyword "contains"`},
		{"unknown keyword in anyOf", `{"anyOf":[{},{"unevaluatedProperties":false}]}`, `#/anyOf/1/unevaluatedProperties`},
		{"unknown keyword in a ref's target outside $defs", `{"x-lib":{"s":{"minContains":1}},"$ref":"#/x-lib/s"}`, `#/x-lib/s/minContains`},
		{"2020-12 items as an array", `{"items":[{}]}`, `#/items: a schema must be an object or a boolean`},
		{"additionalItems in 2020-12", `{"additionalItems":false}`, `keyword "additionalItems"`},
		{"unsupported format", `{"format":"hostname"}`, `#/format: format "hostname" is not supported`},
		{"unsupported draft", `{"$schema":"http://json-schema.org/draft-04/schema#"}`, `only draft 2020-12`},
		{"remote reference", `{"$ref":"https://example.org/other.json#/$defs/x"}`, `#/$ref: reference "https://example.org/other.json#/$defs/x" is outside this schema file`},
		{"anchor", `{"$ref":"#node"}`, `anchors are not supported`},
		{"dangling pointer", `{"$ref":"#/$defs/none"}`, `#/$ref: reference "#/$defs/none": nothing at "$defs"`},
		{"embedded $id", `{"$defs":{"d":{"$id":"https://example.org/d"}}}`, `#/$defs/d/$id: an $id below the root`},
		{"pattern RE2 cannot compile", `{"pattern":"^(?!x)"}`, `#/pattern: Go's regexp (RE2) cannot compile`},
		{"bad type name", `{"type":"int"}`, `#/type: unknown type "int"`},
		{"negative maxLength", `{"maxLength":-1}`, `#/maxLength: must be a non-negative integer`},
		{"multipleOf zero", `{"multipleOf":0}`, `#/multipleOf: must be greater than 0`},
		{"required not an array", `{"required":"a"}`, `#/required: must be an array`},
		{"schema not an object", `{"properties":{"a":1}}`, `#/properties/a: a schema must be an object or a boolean, found number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := jsonschema.Compile(decode(t, tc.schema))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// A $ref cycle that consumes no input fails instead of recursing forever.
func TestRefCycle(t *testing.T) {
	s := compile(t, `{"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"}`)
	vs := s.Validate(decode(t, `1`), "")
	if len(vs) == 0 || vs[0].Keyword != "$ref" {
		t.Errorf("%v", vs)
	}
}

func TestDocumentSchema(t *testing.T) {
	d, err := jsonschema.Compile(decode(t, `{"properties":{"a":{"items":{"type":"string"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Schema("/properties/a/items")
	if err != nil || !s.Valid("x") || s.Valid(json.Number("1")) {
		t.Errorf("%v", err)
	}
	if _, err := d.Schema("/properties/b"); err == nil {
		t.Error("no error for a location without a schema")
	}
}

// Float64 and int values (a document built in Go) validate as their JSON
// numbers do.
func TestGoNumbers(t *testing.T) {
	s := compile(t, `{"items":{"type":"integer","minimum":1,"multipleOf":2}}`)
	if vs := s.Validate([]any{2.0, 4, int64(6)}, ""); vs != nil {
		t.Errorf("%v", vs)
	}
	if vs := s.Validate([]any{2.5, 0, int64(3)}, ""); len(vs) != 4 {
		t.Errorf("want 4 violations (2.5: type, multipleOf; 0: minimum; 3: multipleOf), got %v", vs)
	}
}
