// Package jsonschema validates JSON values against a JSON Schema document
// of draft 2020-12 (the default) or draft-07, limited to the keywords the
// gateway's schemas and DHCS's published JSON schemas use:
//
//   - applicators: properties, additionalProperties, items, prefixItems
//     (draft-07: items as an array, additionalItems), allOf, anyOf,
//     oneOf, not, if/then/else, $ref to a JSON pointer in the same file;
//   - assertions: type, enum, const, required, pattern, format (date,
//     time, date-time, email, uuid, ipv4, ipv6, uri; always asserted),
//     minLength, maxLength, minimum, maximum, exclusiveMinimum,
//     exclusiveMaximum, multipleOf, minItems, maxItems, uniqueItems;
//   - no effect on validation: $schema, $id (the root's), $defs,
//     definitions, $comment, title, description, examples, default,
//     deprecated, readOnly, writeOnly, contentMediaType,
//     contentEncoding, and any keyword starting with "x-".
//
// Compile refuses a schema with any other keyword, an unsupported format,
// a reference outside the file or a pattern Go's regexp cannot compile,
// naming the keyword and its JSON pointer, so that a schema this package
// cannot apply in full is never applied in part. Compiled schemas are
// immutable and safe for concurrent use; nothing is built before Compile
// is called.
package jsonschema

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/internal/fixedre"
)

// Drafts Compile reads, by their $schema URIs (without the trailing '#').
const (
	Draft2020 = "https://json-schema.org/draft/2020-12/schema"
	Draft7    = "http://json-schema.org/draft-07/schema"
)

// Document is a compiled schema document: its root and every sub-schema,
// by JSON pointer.
type Document struct {
	root  *Schema
	byLoc map[string]*Schema
}

// Root returns the document's root schema.
func (d *Document) Root() *Schema { return d.root }

// Schema returns the sub-schema at a JSON pointer of the document ("" is
// the root, "/properties/header" a member's), compiling it if no keyword
// reached it.
func (d *Document) Schema(ptr string) (*Schema, error) {
	if s := d.byLoc[ptr]; s != nil {
		return s, nil
	}
	return nil, fmt.Errorf("#%s: no schema at this location", ptr)
}

// Schema is one compiled schema (or sub-schema).
type Schema struct {
	loc    string // JSON pointer in its document
	always *bool  // a boolean schema

	ref *Schema

	types    typeSet
	enum     []any
	enumStr  map[string]bool // the enum's strings (enum holds the rest)
	enumAll  []any
	hasEnum  bool
	konst    any
	hasConst bool

	props      []property // sorted by name
	propIndex  map[string]*Schema
	additional *Schema
	required   []string

	prefix   []*Schema
	items    *Schema // the elements after prefix
	minItems int
	maxItems int // -1: none
	unique   bool

	pattern    *fixedre.Matcher
	format     string
	formatOK   func(string) bool
	minLength  int
	maxLength  int // -1: none
	minimum    *number
	maximum    *number
	exclMin    *number
	exclMax    *number
	multipleOf *number

	allOf, anyOf, oneOf []*Schema
	not                 *Schema
	ifS, thenS, elseS   *Schema
}

type property struct {
	name   string
	schema *Schema
}

// typeSet is a set of JSON Schema types, one bit each.
type typeSet uint8

const (
	tNull typeSet = 1 << iota
	tBoolean
	tObject
	tArray
	tNumber
	tString
	tInteger
)

var typeNames = []string{"null", "boolean", "object", "array", "number", "string", "integer"}

func (t typeSet) String() string {
	var out []string
	for i, n := range typeNames {
		if t&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return strings.Join(out, " or ")
}

// annotations are the keywords that do not change a verdict.
var annotations = []string{"$schema", "$id", "$defs", "definitions", "$comment", "title", "description",
	"examples", "default", "deprecated", "readOnly", "writeOnly", "contentMediaType", "contentEncoding"}

// keywords are the keywords applied, per draft.
var (
	keywords2020 = []string{"$ref", "type", "enum", "const", "properties", "additionalProperties", "required",
		"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "pattern", "format", "minLength", "maxLength",
		"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
		"allOf", "anyOf", "oneOf", "not", "if", "then", "else"}
	keywords7 = []string{"$ref", "type", "enum", "const", "properties", "additionalProperties", "required",
		"items", "additionalItems", "minItems", "maxItems", "uniqueItems", "pattern", "format", "minLength", "maxLength",
		"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
		"allOf", "anyOf", "oneOf", "not", "if", "then", "else"}
)

// Compile compiles a schema document decoded from JSON (numbers as
// json.Number or float64). A document without $schema is read as draft
// 2020-12.
func Compile(doc any) (*Document, error) {
	c := &compiler{root: doc, draft: Draft2020, byLoc: map[string]*Schema{}}
	if m, ok := doc.(map[string]any); ok {
		if v, ok := m["$schema"]; ok {
			d, err := draftOf(v)
			if err != nil {
				return nil, err
			}
			c.draft = d
		}
		if id, ok := m["$id"].(string); ok {
			c.id = strings.TrimSuffix(id, "#")
		}
	}
	root, err := c.compile(doc, "")
	if err != nil {
		return nil, err
	}
	for len(c.pending) > 0 {
		p := c.pending[0]
		c.pending = c.pending[1:]
		target, err := c.resolve(p.ref, p.loc)
		if err != nil {
			return nil, err
		}
		p.s.ref = target
	}
	return &Document{root: root, byLoc: c.byLoc}, nil
}

func draftOf(v any) (string, error) {
	s, _ := v.(string)
	switch strings.TrimSuffix(s, "#") {
	case Draft2020, "http://json-schema.org/draft/2020-12/schema":
		return Draft2020, nil
	case Draft7, "https://json-schema.org/draft-07/schema":
		return Draft7, nil
	}
	return "", fmt.Errorf("#: $schema %q: only draft 2020-12 (%s) and draft-07 (%s) are supported", s, Draft2020, Draft7)
}

type compiler struct {
	root    any
	id      string
	draft   string
	byLoc   map[string]*Schema
	pending []pendingRef
}

type pendingRef struct {
	s   *Schema
	ref string
	loc string // of the $ref keyword
}

// schemaError names the JSON pointer of the keyword at fault.
func schemaError(loc, kw, format string, args ...any) error {
	return fmt.Errorf("#%s/%s: %s", loc, escape(kw), fmt.Sprintf(format, args...))
}

func (c *compiler) compile(v any, loc string) (*Schema, error) {
	if s := c.byLoc[loc]; s != nil {
		return s, nil
	}
	s := &Schema{loc: loc, maxItems: -1, maxLength: -1}
	c.byLoc[loc] = s
	switch x := v.(type) {
	case bool:
		s.always = &x
		return s, nil
	case map[string]any:
		return s, c.keywords(s, x, loc)
	}
	return nil, fmt.Errorf("#%s: a schema must be an object or a boolean, found %s", loc, jsonType(v))
}

func (c *compiler) keywords(s *Schema, m map[string]any, loc string) error {
	known := keywords2020
	if c.draft == Draft7 {
		known = keywords7
	}
	for _, k := range slices.Sorted(mapKeys(m)) {
		if !slices.Contains(known, k) && !slices.Contains(annotations, k) && !strings.HasPrefix(k, "x-") {
			return schemaError(loc, k, "keyword %q is not supported by the gateway's validator (supported: %s; annotations: %s; x-*)",
				k, strings.Join(known, ", "), strings.Join(annotations, ", "))
		}
	}
	if loc != "" {
		if _, ok := m["$id"]; ok {
			return schemaError(loc, "$id", "an $id below the root (an embedded schema resource) is not supported")
		}
		if v, ok := m["$schema"]; ok {
			if d, err := draftOf(v); err != nil || d != c.draft {
				return schemaError(loc, "$schema", "a sub-schema must not change the draft (%v)", v)
			}
		}
	}
	for _, defs := range []string{"$defs", "definitions"} {
		if v, ok := m[defs]; ok {
			dm, ok := v.(map[string]any)
			if !ok {
				return schemaError(loc, defs, "must be an object")
			}
			for _, k := range slices.Sorted(mapKeys(dm)) {
				if _, err := c.compile(dm[k], loc+"/"+escape(defs)+"/"+escape(k)); err != nil {
					return err
				}
			}
		}
	}
	if v, ok := m["$ref"]; ok {
		ref, ok := v.(string)
		if !ok {
			return schemaError(loc, "$ref", "must be a string")
		}
		c.pending = append(c.pending, pendingRef{s, ref, loc + "/$ref"})
		if c.draft == Draft7 {
			return nil // draft-07: $ref's siblings are ignored
		}
	}
	sub := func(kw string) (*Schema, error) {
		v, ok := m[kw]
		if !ok {
			return nil, nil
		}
		return c.compile(v, loc+"/"+escape(kw))
	}
	subs := func(kw string) ([]*Schema, error) {
		v, ok := m[kw]
		if !ok {
			return nil, nil
		}
		arr, ok := v.([]any)
		if !ok || len(arr) == 0 {
			return nil, schemaError(loc, kw, "must be a non-empty array of schemas")
		}
		out := make([]*Schema, len(arr))
		for i, a := range arr {
			var err error
			if out[i], err = c.compile(a, loc+"/"+escape(kw)+"/"+strconv.Itoa(i)); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	var err error
	set := func(dst **Schema, kw string) {
		if err == nil {
			*dst, err = sub(kw)
		}
	}
	setAll := func(dst *[]*Schema, kw string) {
		if err == nil {
			*dst, err = subs(kw)
		}
	}
	set(&s.additional, "additionalProperties")
	set(&s.not, "not")
	set(&s.ifS, "if")
	set(&s.thenS, "then")
	set(&s.elseS, "else")
	setAll(&s.allOf, "allOf")
	setAll(&s.anyOf, "anyOf")
	setAll(&s.oneOf, "oneOf")
	if c.draft == Draft7 {
		if _, ok := m["items"].([]any); ok {
			setAll(&s.prefix, "items")
			set(&s.items, "additionalItems")
		} else {
			set(&s.items, "items")
		}
	} else {
		set(&s.items, "items")
		setAll(&s.prefix, "prefixItems")
	}
	if err != nil {
		return err
	}
	if v, ok := m["properties"]; ok {
		pm, ok := v.(map[string]any)
		if !ok {
			return schemaError(loc, "properties", "must be an object")
		}
		s.propIndex = map[string]*Schema{}
		for _, k := range slices.Sorted(mapKeys(pm)) {
			ps, err := c.compile(pm[k], loc+"/properties/"+escape(k))
			if err != nil {
				return err
			}
			s.props = append(s.props, property{k, ps})
			s.propIndex[k] = ps
		}
	}
	if v, ok := m["type"]; ok {
		names, ok := strings1(v)
		if !ok {
			return schemaError(loc, "type", "must be a type name or an array of them")
		}
		for _, n := range names {
			i := slices.Index(typeNames, n)
			if i < 0 {
				return schemaError(loc, "type", "unknown type %q (one of %s)", n, strings.Join(typeNames, ", "))
			}
			s.types |= 1 << i
		}
	}
	if v, ok := m["enum"]; ok {
		arr, ok := v.([]any)
		if !ok {
			return schemaError(loc, "enum", "must be an array")
		}
		s.hasEnum, s.enumAll = true, arr
		s.enumStr = map[string]bool{}
		for _, e := range arr {
			if str, ok := e.(string); ok {
				s.enumStr[str] = true
			} else {
				s.enum = append(s.enum, e)
			}
		}
	}
	if v, ok := m["const"]; ok {
		s.konst, s.hasConst = v, true
	}
	if v, ok := m["required"]; ok {
		names, ok := strings1(v)
		if !ok || isString(v) {
			return schemaError(loc, "required", "must be an array of property names")
		}
		s.required = names
	}
	counts := []struct {
		kw  string
		dst *int
	}{{"minItems", &s.minItems}, {"maxItems", &s.maxItems}, {"minLength", &s.minLength}, {"maxLength", &s.maxLength}}
	for _, n := range counts {
		if v, ok := m[n.kw]; ok {
			x, ok := toNumber(v)
			if !ok || !x.isInt() || x.sign() < 0 || !x.r.Num().IsInt64() || x.r.Num().Int64() > 1<<31 {
				return schemaError(loc, n.kw, "must be a non-negative integer")
			}
			*n.dst = int(x.r.Num().Int64())
		}
	}
	bounds := []struct {
		kw  string
		dst **number
	}{{"minimum", &s.minimum}, {"maximum", &s.maximum}, {"exclusiveMinimum", &s.exclMin}, {"exclusiveMaximum", &s.exclMax}, {"multipleOf", &s.multipleOf}}
	for _, b := range bounds {
		if v, ok := m[b.kw]; ok {
			x, ok := toNumber(v)
			if !ok {
				return schemaError(loc, b.kw, "must be a number")
			}
			*b.dst = &x
		}
	}
	if s.multipleOf != nil && s.multipleOf.sign() <= 0 {
		return schemaError(loc, "multipleOf", "must be greater than 0")
	}
	if v, ok := m["uniqueItems"]; ok {
		b, ok := v.(bool)
		if !ok {
			return schemaError(loc, "uniqueItems", "must be a boolean")
		}
		s.unique = b
	}
	if v, ok := m["pattern"]; ok {
		p, ok := v.(string)
		if !ok {
			return schemaError(loc, "pattern", "must be a string")
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return schemaError(loc, "pattern", "Go's regexp (RE2) cannot compile %q: %v", p, err)
		}
		s.pattern = fixedre.Compile(re)
	}
	if v, ok := m["format"]; ok {
		f, ok := v.(string)
		if !ok {
			return schemaError(loc, "format", "must be a string")
		}
		check := formatCheck(f)
		if check == nil {
			return schemaError(loc, "format", "format %q is not supported (supported: %s)", f, strings.Join(formatNames, ", "))
		}
		s.format, s.formatOK = f, check
	}
	return nil
}

// resolve returns the schema a $ref names: a JSON pointer into this
// document, after the document's own $id or file name or nothing.
func (c *compiler) resolve(ref, loc string) (*Schema, error) {
	base, frag, _ := strings.Cut(ref, "#")
	if base != "" && base != c.id && (c.id == "" || !strings.HasSuffix(c.id, "/"+base)) {
		return nil, fmt.Errorf("#%s: reference %q is outside this schema file (no network, no other files)", loc, ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, fmt.Errorf("#%s: reference %q: %v", loc, ref, err)
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("#%s: reference %q: anchors are not supported, only JSON pointers (#/$defs/name)", loc, ref)
	}
	if s := c.byLoc[frag]; s != nil {
		return s, nil
	}
	v := c.root
	for _, tok := range strings.Split(frag, "/")[1:] {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[tok]; !ok {
				return nil, fmt.Errorf("#%s: reference %q: nothing at %q", loc, ref, tok)
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("#%s: reference %q: no element %q", loc, ref, tok)
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("#%s: reference %q: nothing at %q", loc, ref, tok)
		}
	}
	return c.compile(v, frag)
}

// strings1 reads a string or an array of strings.
func strings1(v any) ([]string, bool) {
	switch x := v.(type) {
	case string:
		return []string{x}, true
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

func isString(v any) bool { _, ok := v.(string); return ok }

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// escape escapes a JSON pointer token (RFC 6901).
func escape(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}

// number is a JSON number, exact, with its text and, when it is an
// integer that fits, its int64 (the fast path of comparisons).
type number struct {
	r     *big.Rat
	text  string
	i     int64
	small bool // i holds the value
}

func (n number) isInt() bool    { return n.r.IsInt() }
func (n number) sign() int      { return n.r.Sign() }
func (n number) String() string { return n.text }

// toNumber reads a number value of a decoded document.
func toNumber(v any) (number, bool) {
	r := new(big.Rat)
	var text string
	switch x := v.(type) {
	case json.Number:
		if _, ok := r.SetString(string(x)); !ok {
			return number{}, false
		}
		text = string(x)
	case float64:
		if r.SetFloat64(x) == nil {
			return number{}, false
		}
		text = strconv.FormatFloat(x, 'g', -1, 64)
	case int:
		r.SetInt64(int64(x))
		text = strconv.Itoa(x)
	case int64:
		r.SetInt64(x)
		text = strconv.FormatInt(x, 10)
	default:
		return number{}, false
	}
	n := number{r: r, text: text}
	if r.IsInt() && r.Num().IsInt64() {
		n.i, n.small = r.Num().Int64(), true
	}
	return n, true
}
