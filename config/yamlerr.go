package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// yamlLine, yamlUnknown and yamlWrongType match the yaml package's decoding
// messages; they are compiled on first use, so that start-up does no work for them.
var (
	yamlLine      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^line (\d+): (.*)$`) })
	yamlUnknown   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^field (\S+) not found in type`) })
	yamlWrongType = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (.+)$")
	})
)

// explainYAML rewrites the yaml package's decoding errors so that each names
// the key path (encounters.max_claims_per_st) and says what was expected,
// instead of a Go type. doc is the parsed file; other errors pass through.
func explainYAML(err error, doc []byte) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	var root yaml.Node
	if yaml.Unmarshal(doc, &root) != nil {
		return err
	}
	keys := map[int][]keyAt{} // line → the keys on it
	walkKeys(&root, nil, keys)
	var out []string
	for _, e := range te.Errors {
		m := yamlLine().FindStringSubmatch(e)
		if m == nil {
			out = append(out, e)
			continue
		}
		line, _ := strconv.Atoi(m[1])
		path := pick(keys[line], m[2])
		where := strings.Join(path, ".")
		if where == "" {
			where = "line " + m[1]
		} else {
			where += " (line " + m[1] + ")"
		}
		switch {
		case yamlUnknown().MatchString(m[2]):
			msg := where + ": unknown key"
			if known := knownKeys(path[:max(len(path)-1, 0)]); len(known) > 0 {
				msg += " (known here: " + strings.Join(known, ", ") + ")"
			}
			out = append(out, msg)
		case yamlWrongType().MatchString(m[2]):
			w := yamlWrongType().FindStringSubmatch(m[2])
			out = append(out, fmt.Sprintf("%s: %q is not %s", where, w[2], expected(w[3])))
		default:
			out = append(out, where+": "+m[2])
		}
	}
	return errors.New(strings.Join(out, "; "))
}

// keyAt is a mapping key: its path and its value.
type keyAt struct {
	path  []string
	value *yaml.Node
}

// pick returns the path of the key on a line that an error message is
// about: the unknown key it names, or the key whose value it quotes; else
// the line's first key.
func pick(on []keyAt, msg string) []string {
	if len(on) == 0 {
		return nil
	}
	if m := yamlUnknown().FindStringSubmatch(msg); m != nil {
		for _, k := range on {
			if last(k.path) == m[1] {
				return k.path
			}
		}
	}
	if m := yamlWrongType().FindStringSubmatch(msg); m != nil {
		for _, k := range on {
			if k.value.Kind == yaml.ScalarNode && k.value.Value == m[2] {
				return k.path
			}
		}
	}
	return on[0].path
}

// walkKeys records the mapping keys by line.
func walkKeys(n *yaml.Node, path []string, keys map[int][]keyAt) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = append(slices.Clone(path[:max(len(path)-1, 0)]), fmt.Sprintf("%s[%d]", last(path), i))
			}
			walkKeys(c, p, keys)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := append(slices.Clone(path), k.Value)
			keys[k.Line] = append(keys[k.Line], keyAt{p, v})
			walkKeys(v, p, keys)
		}
	}
}

func last(p []string) string {
	if len(p) == 0 {
		return ""
	}
	return p[len(p)-1]
}

// knownKeys lists the keys the configuration accepts at path.
func knownKeys(path []string) []string {
	t := reflect.TypeOf(Config{})
	for _, k := range path {
		if i := strings.IndexByte(k, '['); i >= 0 {
			k = k[:i]
		}
		t = deref(t)
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
			f, ok := fieldByKey(t, k)
			if !ok {
				return nil
			}
			t = f.Type
			if t.Kind() == reflect.Slice {
				t = t.Elem()
			}
		default:
			return nil
		}
	}
	t = deref(t)
	if t.Kind() != reflect.Struct {
		return nil
	}
	var names []string
	collectKeys(t, &names)
	return names
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldByKey finds the field a YAML key decodes into, inline structs
// included.
func fieldByKey(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			if g, ok := fieldByKey(deref(f.Type), key); ok {
				return g, true
			}
			continue
		}
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func collectKeys(t reflect.Type, names *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case strings.Contains(opts, "inline"):
			collectKeys(deref(f.Type), names)
		case name != "" && name != "-":
			*names = append(*names, name)
		}
	}
}

// expected says in words what a Go type takes.
func expected(goType string) string {
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a text value"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["):
		return "a mapping of keys to values"
	case goType == "time.Duration":
		return "a duration such as 30s or 5m"
	}
	return "a mapping of keys to values"
}
