package schemas

import (
	"fmt"
	"slices"
	"strings"
)

// Mismatch is one field where the gateway's schema (what its builder
// writes) and another schema (DHCS's official files) disagree.
type Mismatch struct {
	Where   string // "header" or a data set
	Field   string
	Problem string
}

func (m Mismatch) String() string { return fmt.Sprintf("%s.%s: %s", m.Where, m.Field, m.Problem) }

// Compare lists, field by field, where theirs differs from ours in the
// monthly submission: a data set or field ours writes that theirs does not
// know, a field theirs requires that ours never writes, a field whose type,
// pattern or enumeration differs. It reads the schemas' structure
// (properties, required, type, pattern, enum), following local $refs and
// allOf; what it cannot resolve it reports rather than guesses.
func Compare(ours, theirs *Set) []Mismatch {
	o, _ := ours.docs[MonthlyFile].(map[string]any)
	t, _ := theirs.docs[MonthlyFile].(map[string]any)
	var out []Mismatch
	for _, where := range append([]string{"header"}, DataSets...) {
		ov, tv := prop(o, where), prop(t, where)
		if tv == nil {
			out = append(out, Mismatch{where, "*", "not in their schema: the builder's records of it would be refused"})
			continue
		}
		if where != "header" {
			ov, tv = deref(o, ov)["items"], deref(t, tv)["items"]
		}
		oo, to := object(o, ov), object(t, tv)
		op, tp := fields(oo), fields(to)
		oreq, treq := required(oo), required(to)
		for _, f := range sortedKeys(op) {
			tf, ok := tp[f]
			if !ok {
				out = append(out, Mismatch{where, f, "written by the builder, not in their schema"})
				continue
			}
			out = append(out, differ(where, f, describe(o, op[f]), describe(t, tf))...)
		}
		for _, f := range sortedKeys(tp) {
			if _, ok := op[f]; !ok {
				p := "in their schema, never written by the builder"
				if slices.Contains(treq, f) {
					p = "required by their schema, never written by the builder"
				}
				out = append(out, Mismatch{where, f, p})
			}
		}
		for _, f := range treq {
			if _, ok := op[f]; ok && !slices.Contains(oreq, f) {
				out = append(out, Mismatch{where, f, "required by their schema, optional in ours (the builder may leave it out)"})
			}
		}
	}
	return out
}

// shape is what Compare compares of a field.
type shape struct {
	types   []string
	pattern string
	enum    []string
	format  string
}

func differ(where, f string, a, b shape) []Mismatch {
	var out []Mismatch
	if !slices.Equal(a.types, b.types) {
		out = append(out, Mismatch{where, f, fmt.Sprintf("type: ours %s, theirs %s", strings.Join(a.types, "|"), strings.Join(b.types, "|"))})
	}
	if a.pattern != b.pattern {
		out = append(out, Mismatch{where, f, fmt.Sprintf("pattern: ours %q, theirs %q", a.pattern, b.pattern)})
	}
	if a.format != b.format {
		out = append(out, Mismatch{where, f, fmt.Sprintf("format: ours %q, theirs %q", a.format, b.format)})
	}
	if !slices.Equal(a.enum, b.enum) {
		var only []string
		for _, v := range a.enum {
			if !slices.Contains(b.enum, v) {
				only = append(only, fmt.Sprintf("%q", v))
			}
		}
		p := "enumeration differs"
		if len(only) > 0 {
			p += ": ours has " + strings.Join(only, ", ") + " that theirs refuses"
		}
		out = append(out, Mismatch{where, f, p})
	}
	return out
}

// describe resolves a field's schema to its shape (a oneOf/anyOf of
// alternatives joins their types).
func describe(root map[string]any, v any) shape {
	m := deref(root, v)
	var s shape
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := m[k].([]any); ok {
			for _, a := range alts {
				as := describe(root, a)
				s.types = append(s.types, as.types...)
				s.pattern = cmpOr(s.pattern, as.pattern)
				s.format = cmpOr(s.format, as.format)
				s.enum = append(s.enum, as.enum...)
			}
		}
	}
	switch t := m["type"].(type) {
	case string:
		s.types = append(s.types, t)
	case []any:
		for _, x := range t {
			s.types = append(s.types, fmt.Sprint(x))
		}
	}
	s.pattern = cmpOr(s.pattern, str(m, "pattern"))
	s.format = cmpOr(s.format, str(m, "format"))
	if e, ok := m["enum"].([]any); ok {
		for _, x := range e {
			s.enum = append(s.enum, fmt.Sprint(x))
		}
	}
	slices.Sort(s.types)
	s.types = slices.Compact(s.types)
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// deref follows local "$ref"s ("#/..." JSON pointers into root).
func deref(root map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	for range 32 {
		ref, ok := m["$ref"].(string)
		if !ok || !strings.HasPrefix(ref, "#/") || len(m) > 2 && (m["properties"] != nil || m["type"] != nil) {
			return m
		}
		var cur any = root
		for _, p := range strings.Split(ref[2:], "/") {
			p = strings.NewReplacer("~1", "/", "~0", "~").Replace(p)
			cm, _ := cur.(map[string]any)
			cur = cm[p]
		}
		m, _ = cur.(map[string]any)
	}
	return m
}

// object resolves an object schema: itself, its $ref and its allOf parts
// merged (properties and required).
func object(root map[string]any, v any) map[string]any {
	m := deref(root, v)
	if m == nil {
		return nil
	}
	out := map[string]any{"properties": map[string]any{}, "required": []any{}}
	merge := func(x map[string]any) {
		if ps, ok := x["properties"].(map[string]any); ok {
			for k, p := range ps {
				out["properties"].(map[string]any)[k] = p
			}
		}
		if rs, ok := x["required"].([]any); ok {
			out["required"] = append(out["required"].([]any), rs...)
		}
	}
	merge(m)
	if ref, ok := m["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
		merge(object(root, map[string]any{"$ref": ref}))
	}
	if all, ok := m["allOf"].([]any); ok {
		for _, a := range all {
			merge(object(root, a))
		}
	}
	return out
}

func prop(root map[string]any, name string) any {
	ps, _ := object(root, root)["properties"].(map[string]any)
	return ps[name]
}

func fields(obj map[string]any) map[string]any {
	ps, _ := obj["properties"].(map[string]any)
	return ps
}

func required(obj map[string]any) []string {
	var out []string
	rs, _ := obj["required"].([]any)
	for _, r := range rs {
		out = append(out, fmt.Sprint(r))
	}
	return out
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func sortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
