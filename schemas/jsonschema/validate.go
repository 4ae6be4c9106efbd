package jsonschema

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Violation is one way a value breaks its schema.
type Violation struct {
	Pointer string // JSON pointer of the value in the document ("" = the whole document)
	Keyword string // the schema keyword that failed (pattern, required, enum, ...)
	Message string // says what the schema wants; never quotes the value
}

func (v Violation) String() string {
	p := v.Pointer
	if p == "" {
		p = "/"
	}
	return fmt.Sprintf("%s: %s: %s", p, v.Keyword, v.Message)
}

// maxDepth bounds the nesting of schemas applied to one value ($ref
// cycles that consume no input).
const maxDepth = 1000

// Validate validates a decoded JSON value (numbers as json.Number or
// float64, objects as map[string]any, arrays as []any) and returns its
// violations, nil when it holds. prefix goes before every pointer (the
// value's place in a larger document). A property's violations come in
// property-name order; an anyOf or oneOf that fails is one violation.
func (s *Schema) Validate(v any, prefix string) []Violation {
	vd := validator{}
	if vd.check(s, v) {
		return nil
	}
	vd = validator{collect: true}
	vd.check(s, v)
	if prefix != "" {
		for i := range vd.out {
			vd.out[i].Pointer = prefix + vd.out[i].Pointer
		}
	}
	return vd.out
}

// Valid reports whether v holds against s.
func (s *Schema) Valid(v any) bool {
	vd := validator{}
	return vd.check(s, v)
}

// validator is the state of one validation. Without collect, check stops
// at the first failure and records nothing.
type validator struct {
	collect bool
	path    []token
	out     []Violation
	depth   int
}

type token struct {
	name  string
	index int // -1: name
}

func (vd *validator) pointer() string {
	var b strings.Builder
	for _, t := range vd.path {
		b.WriteByte('/')
		if t.index >= 0 {
			b.WriteString(strconv.Itoa(t.index))
		} else {
			b.WriteString(escape(t.name))
		}
	}
	return b.String()
}

func (vd *validator) fail(kw, msg string) {
	vd.out = append(vd.out, Violation{Pointer: vd.pointer(), Keyword: kw, Message: msg})
}

// quiet reports whether v holds against s, recording nothing.
func (vd *validator) quiet(s *Schema, v any) bool {
	c := vd.collect
	vd.collect = false
	ok := vd.check(s, v)
	vd.collect = c
	return ok
}

func (vd *validator) field(s *Schema, name string, v any) bool {
	vd.path = append(vd.path, token{name: name, index: -1})
	ok := vd.check(s, v)
	vd.path = vd.path[:len(vd.path)-1]
	return ok
}

func (vd *validator) element(s *Schema, i int, v any) bool {
	vd.path = append(vd.path, token{index: i})
	ok := vd.check(s, v)
	vd.path = vd.path[:len(vd.path)-1]
	return ok
}

// check applies s to v. Each failed keyword either returns false at once
// (without collect) or records its violation and goes on.
func (vd *validator) check(s *Schema, v any) bool {
	if s.always != nil {
		if *s.always {
			return true
		}
		if vd.collect {
			vd.fail("false", "no value is allowed here (the schema is false)")
		}
		return false
	}
	if vd.depth >= maxDepth {
		if vd.collect {
			vd.fail("$ref", fmt.Sprintf("schemas nest deeper than %d levels (a $ref cycle at #%s)", maxDepth, s.loc))
		}
		return false
	}
	vd.depth++
	ok := vd.apply(s, v)
	vd.depth--
	return ok
}

func (vd *validator) apply(s *Schema, v any) bool {
	ok := true
	if s.ref != nil && !vd.check(s.ref, v) {
		if !vd.collect {
			return false
		}
		ok = false
	}
	if s.types != 0 && !s.types.holds(v) {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("type", fmt.Sprintf("want %s, found %s", s.types, jsonType(v)))
	}
	if s.hasEnum && !s.inEnum(v) {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("enum", "not one of the allowed values: "+s.enumText())
	}
	if s.hasConst && !equal(v, s.konst) {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("const", "must be "+jsonText(s.konst))
	}
	var typed bool
	switch x := v.(type) {
	case string:
		typed = vd.str(s, x)
	case map[string]any:
		typed = vd.object(s, x)
	case []any:
		typed = vd.array(s, x)
	case nil, bool:
		typed = true
	default:
		typed = vd.number(s, v)
	}
	if !typed {
		if !vd.collect {
			return false
		}
		ok = false
	}
	for _, a := range s.allOf {
		if !vd.check(a, v) {
			if !vd.collect {
				return false
			}
			ok = false
		}
	}
	if len(s.anyOf) > 0 && !slices.ContainsFunc(s.anyOf, func(a *Schema) bool { return vd.quiet(a, v) }) {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("anyOf", "none of the alternatives holds: "+vd.explain(s.anyOf, v))
	}
	if len(s.oneOf) > 0 {
		first, second := -1, -1
		for i, a := range s.oneOf {
			if vd.quiet(a, v) {
				if first < 0 {
					first = i
				} else {
					second = i
					break
				}
			}
		}
		if first < 0 || second >= 0 {
			if !vd.collect {
				return false
			}
			ok = false
			if first < 0 {
				vd.fail("oneOf", "none of the alternatives holds: "+vd.explain(s.oneOf, v))
			} else {
				vd.fail("oneOf", fmt.Sprintf("alternatives %d and %d both hold; exactly one must", first, second))
			}
		}
	}
	if s.not != nil && vd.quiet(s.not, v) {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("not", "must not hold against the schema at #"+s.not.loc)
	}
	if s.ifS != nil {
		branch := s.elseS
		if vd.quiet(s.ifS, v) {
			branch = s.thenS
		}
		if branch != nil && !vd.check(branch, v) {
			if !vd.collect {
				return false
			}
			ok = false
		}
	}
	return ok
}

// explain lists why each alternative fails, pointers relative to the
// value's.
func (vd *validator) explain(alts []*Schema, v any) string {
	saved, c := vd.out, vd.collect
	here := vd.pointer()
	var parts []string
	for _, a := range alts {
		vd.out, vd.collect = nil, true
		vd.check(a, v)
		for _, x := range vd.out {
			msg := x.Message
			if rel := strings.TrimPrefix(x.Pointer, here); rel != "" {
				msg = rel + ": " + msg
			}
			parts = append(parts, msg)
		}
	}
	vd.out, vd.collect = saved, c
	return strings.Join(parts, "; ")
}

func (vd *validator) str(s *Schema, x string) bool {
	ok := true
	if s.minLength > 0 && (len(x) < s.minLength || utf8.RuneCountInString(x) < s.minLength) {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("minLength", fmt.Sprintf("shorter than %d characters", s.minLength))
	}
	if s.maxLength >= 0 && len(x) > s.maxLength && utf8.RuneCountInString(x) > s.maxLength {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("maxLength", fmt.Sprintf("longer than %d characters", s.maxLength))
	}
	if s.pattern != nil && !s.pattern.MatchString(x) {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("pattern", "does not match "+s.pattern.String())
	}
	if s.formatOK != nil && !s.formatOK(x) {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("format", "not a valid "+s.format)
	}
	return ok
}

func (vd *validator) object(s *Schema, x map[string]any) bool {
	ok := true
	var missing []string
	for _, r := range s.required {
		if _, has := x[r]; !has {
			if !vd.collect {
				return false
			}
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		ok = false
		if len(missing) == 1 {
			vd.fail("required", "missing property '"+missing[0]+"'")
		} else {
			vd.fail("required", "missing properties '"+strings.Join(missing, "', '")+"'")
		}
	}
	for _, p := range s.props {
		if pv, has := x[p.name]; has && !vd.field(p.schema, p.name, pv) {
			if !vd.collect {
				return false
			}
			ok = false
		}
	}
	if s.additional == nil || len(x) == 0 {
		return ok
	}
	var extra []string
	for k := range x {
		if _, known := s.propIndex[k]; !known {
			if s.additional.always != nil && !*s.additional.always && !vd.collect {
				return false
			}
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return ok
	}
	slices.Sort(extra)
	if s.additional.always != nil && !*s.additional.always {
		if len(extra) == 1 {
			vd.fail("additionalProperties", "property '"+extra[0]+"' is not allowed")
		} else {
			vd.fail("additionalProperties", "properties '"+strings.Join(extra, "', '")+"' are not allowed")
		}
		return false
	}
	for _, k := range extra {
		if !vd.field(s.additional, k, x[k]) {
			if !vd.collect {
				return false
			}
			ok = false
		}
	}
	return ok
}

func (vd *validator) array(s *Schema, x []any) bool {
	ok := true
	if len(x) < s.minItems {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("minItems", fmt.Sprintf("fewer than %d items", s.minItems))
	}
	if s.maxItems >= 0 && len(x) > s.maxItems {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("maxItems", fmt.Sprintf("more than %d items", s.maxItems))
	}
	for i, e := range x {
		var es *Schema
		if i < len(s.prefix) {
			es = s.prefix[i]
		} else {
			es = s.items
		}
		if es != nil && !vd.element(es, i, e) {
			if !vd.collect {
				return false
			}
			ok = false
		}
	}
	if s.unique {
		if i, j := duplicate(x); i >= 0 {
			if !vd.collect {
				return false
			}
			ok = false
			vd.fail("uniqueItems", fmt.Sprintf("items %d and %d are equal", i, j))
		}
	}
	return ok
}

// duplicate returns the first two equal items (-1, -1: none).
func duplicate(x []any) (int, int) {
	seen := map[string]int{}
	for j, e := range x {
		if str, isStr := e.(string); isStr {
			if i, dup := seen[str]; dup {
				return i, j
			}
			seen[str] = j
			continue
		}
		for i := range j {
			if equal(x[i], e) {
				return i, j
			}
		}
	}
	return -1, -1
}

func (vd *validator) number(s *Schema, v any) bool {
	if s.minimum == nil && s.maximum == nil && s.exclMin == nil && s.exclMax == nil && s.multipleOf == nil {
		return true
	}
	n, isNum := instNumber(v)
	if !isNum {
		return true
	}
	ok := true
	checks := []struct {
		bound *number
		kw    string
		bad   func(c int) bool
		msg   string
	}{
		{s.minimum, "minimum", func(c int) bool { return c < 0 }, "less than the minimum "},
		{s.maximum, "maximum", func(c int) bool { return c > 0 }, "greater than the maximum "},
		{s.exclMin, "exclusiveMinimum", func(c int) bool { return c <= 0 }, "not greater than "},
		{s.exclMax, "exclusiveMaximum", func(c int) bool { return c >= 0 }, "not less than "},
	}
	for _, c := range checks {
		if c.bound != nil && c.bad(compare(n, *c.bound)) {
			if !vd.collect {
				return false
			}
			ok = false
			vd.fail(c.kw, c.msg+c.bound.text)
		}
	}
	if m := s.multipleOf; m != nil && !multiple(n, *m) {
		if !vd.collect {
			return false
		}
		ok = false
		vd.fail("multipleOf", "not a multiple of "+m.text)
	}
	return ok
}

// instNumber reads an instance's number, without allocating for an
// integer of up to 18 digits.
func instNumber(v any) (number, bool) {
	if x, ok := v.(json.Number); ok {
		if i, ok := smallInt(string(x)); ok {
			return number{i: i, small: true, text: string(x)}, true
		}
	}
	return toNumber(v)
}

func smallInt(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var i int64
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		i = i*10 + int64(c-'0')
	}
	if neg {
		i = -i
	}
	return i, true
}

func (n number) rat() *big.Rat {
	if n.r != nil {
		return n.r
	}
	return new(big.Rat).SetInt64(n.i)
}

func compare(a, b number) int {
	if a.small && b.small {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	return a.rat().Cmp(b.rat())
}

func multiple(n, m number) bool {
	if n.small && m.small {
		return n.i%m.i == 0
	}
	return new(big.Rat).Quo(n.rat(), m.rat()).IsInt()
}

// holds reports whether v is of one of the types.
func (t typeSet) holds(v any) bool {
	switch x := v.(type) {
	case nil:
		return t&tNull != 0
	case bool:
		return t&tBoolean != 0
	case string:
		return t&tString != 0
	case map[string]any:
		return t&tObject != 0
	case []any:
		return t&tArray != 0
	case json.Number:
		if t&tNumber != 0 {
			return true
		}
		if t&tInteger == 0 {
			return false
		}
		if !strings.ContainsAny(string(x), ".eE") {
			return true
		}
		n, ok := toNumber(x)
		return ok && n.isInt()
	case float64:
		return t&tNumber != 0 || t&tInteger != 0 && x == math.Trunc(x) && !math.IsInf(x, 0)
	case int, int64:
		return t&(tNumber|tInteger) != 0
	}
	return false
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.Number, float64, int, int64:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

func (s *Schema) inEnum(v any) bool {
	if str, ok := v.(string); ok {
		return s.enumStr[str]
	}
	return slices.ContainsFunc(s.enum, func(e any) bool { return equal(v, e) })
}

// enumText lists the enum's values (the first 12).
func (s *Schema) enumText() string {
	var all []string
	for _, e := range s.enumAll {
		all = append(all, jsonText(e))
	}
	if len(all) > 12 {
		return strings.Join(all[:12], ", ") + fmt.Sprintf(", … (%d in all)", len(all))
	}
	return strings.Join(all, ", ")
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// equal is JSON equality: numbers by value, objects by members.
func equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, has := y[k]
			if !has || !equal(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, equal)
	}
	na, ok1 := instNumber(a)
	nb, ok2 := instNumber(b)
	return ok1 && ok2 && compare(na, nb) == 0
}
