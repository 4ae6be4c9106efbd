// Package schemas holds the JSON Schemas (draft 2020-12) of the monthly
// ECM and Community Supports monitoring submission to DHCS and of DHCS's
// response to it, embedded in the binary, and validates documents and
// single records against them. A plan that has DHCS's own schema files
// loads them with Load(dir) instead of ours.
package schemas

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// The schema files, by the names a schemas_dir must use too.
const (
	MonthlyFile  = "monthly.schema.json"
	ResponseFile = "response.schema.json"
)

//go:embed monthly.schema.json response.schema.json
var embedded embed.FS

// FS returns the embedded schema files.
func FS() fs.FS { return embedded }

// DataSets lists the monthly file's record arrays, in the order the
// builder writes them (the schema's "properties" hold one array per name;
// TestDataSetsMatchTheSchema keeps the two in step).
var DataSets = []string{
	"ecmEnrollment",
	"populationsOfFocus",
	"outreach",
	"ecmAuthorizations",
	"leadCareManager",
	"ecmProviderNetwork",
	"csAuthorizations",
	"csServicesReceived",
	"csUtilization",
	"csProviderNetwork",
	"closedLoopReferrals",
	"transitionalRent",
}

// Violation is one way a document breaks its schema.
type Violation struct {
	Pointer string // JSON pointer of the value in the document ("" = the whole document)
	Keyword string // the schema keyword that failed (pattern, required, enum, ...)
	Message string
}

func (v Violation) String() string {
	p := v.Pointer
	if p == "" {
		p = "/"
	}
	return fmt.Sprintf("%s: %s: %s", p, v.Keyword, v.Message)
}

// Set is the schemas in force: the monthly submission (whole document and
// each data set's record), and the DHCS response.
type Set struct {
	// Origin says where each file came from: "embedded" or its path.
	Origin   map[string]string
	monthly  *jsonschema.Schema
	records  map[string]*jsonschema.Schema
	response *jsonschema.Schema
	docs     map[string]any // the schema documents, by file name
}

// Embedded returns the gateway's own schemas.
func Embedded() (*Set, error) { return Load("") }

// Load compiles the schemas: each file of dir (MonthlyFile, ResponseFile)
// replaces the embedded one of that name; dir "" or a file dir lacks
// keeps ours. A record's sub-schema is the monthly schema's
// /properties/<data set>/items, the header's /properties/header.
func Load(dir string) (*Set, error) {
	s := &Set{Origin: map[string]string{}, records: map[string]*jsonschema.Schema{}, docs: map[string]any{}}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	for _, name := range []string{MonthlyFile, ResponseFile} {
		data, origin, err := read(dir, name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", origin, err)
		}
		if err := c.AddResource(name, doc); err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", origin, err)
		}
		s.Origin[name], s.docs[name] = origin, doc
	}
	var err error
	compile := func(loc string) *jsonschema.Schema {
		if err != nil {
			return nil
		}
		var sch *jsonschema.Schema
		sch, err = c.Compile(loc)
		if err != nil {
			err = fmt.Errorf("schemas: %s: %w", s.Origin[strings.SplitN(loc, "#", 2)[0]], err)
		}
		return sch
	}
	s.monthly = compile(MonthlyFile)
	s.response = compile(ResponseFile)
	// A data set their schema does not have gets no
	// sub-schema: its values are validated with the whole document.
	props, _ := s.docs[MonthlyFile].(map[string]any)["properties"].(map[string]any)
	for _, ds := range DataSets {
		if arr, ok := props[ds].(map[string]any); ok && arr["items"] != nil {
			s.records[ds] = compile(MonthlyFile + "#/properties/" + ds + "/items")
		}
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func read(dir, name string) ([]byte, string, error) {
	if dir != "" {
		p := filepath.Join(dir, name)
		data, err := os.ReadFile(p)
		if err == nil {
			return data, p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("schemas: %w", err)
		}
	}
	data, err := embedded.ReadFile(name)
	return data, "embedded", err
}

// noLoader refuses every external reference: the schemas are offline.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema reference %s is outside the schema files (no network, no other files)", url)
}

// Doc returns the parsed schema document of a file name (for the data
// dictionary and comparisons).
func (s *Set) Doc(name string) any { return s.docs[name] }

// Decode reads one JSON value the way the validator needs it (numbers
// kept exact).
func Decode(data []byte) (any, error) { return jsonschema.UnmarshalJSON(bytes.NewReader(data)) }

// ValidateMonthly validates a whole monthly submission.
func (s *Set) ValidateMonthly(doc any) []Violation { return violations(s.monthly.Validate(doc), "") }

// ValidateResponse validates a DHCS response file.
func (s *Set) ValidateResponse(doc any) []Violation { return violations(s.response.Validate(doc), "") }

// HasRecordSchema reports whether the schema in force has a record
// schema of the data set (an array of it, with items).
func (s *Set) HasRecordSchema(dataSet string) bool { return s.records[dataSet] != nil }

// ValidateRecord validates one record of a data set, the index-th of its
// array: the pointers are those whole-document validation gives.
func (s *Set) ValidateRecord(dataSet string, index int, rec any) []Violation {
	sch := s.records[dataSet]
	if sch == nil {
		return []Violation{{Pointer: "/" + dataSet, Keyword: "properties", Message: "no such data set in the schema"}}
	}
	return violations(sch.Validate(rec), "/"+dataSet+"/"+strconv.Itoa(index))
}

var printer = message.NewPrinter(language.English)

// violations flattens a validation error into its failing keywords. A
// oneOf or anyOf whose branches all fail is one violation (its branches'
// messages joined), not one per branch.
func violations(err error, prefix string) []Violation {
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Violation{{Pointer: prefix, Keyword: "", Message: err.Error()}}
	}
	var out []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		kw := keyword(e)
		if kw == "oneOf" || kw == "anyOf" || len(e.Causes) == 0 {
			msg := e.ErrorKind.LocalizedString(printer)
			if len(e.Causes) > 0 {
				var parts []string
				for _, c := range leaves(e) {
					parts = append(parts, c.ErrorKind.LocalizedString(printer))
				}
				msg = "none of the alternatives holds: " + strings.Join(parts, "; ")
			}
			out = append(out, Violation{Pointer: prefix + pointer(e.InstanceLocation), Keyword: kw, Message: msg})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

func leaves(e *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return []*jsonschema.ValidationError{e}
	}
	var out []*jsonschema.ValidationError
	for _, c := range e.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// keyword names the failing keyword: the last step of its schema
// location that is a keyword (then/required → required).
func keyword(e *jsonschema.ValidationError) string {
	if _, ok := e.ErrorKind.(*kind.Not); ok {
		return "not"
	}
	if p := e.ErrorKind.KeywordPath(); len(p) > 0 {
		return p[0]
	}
	if _, frag, ok := strings.Cut(e.SchemaURL, "#"); ok {
		parts := strings.Split(frag, "/")
		return parts[len(parts)-1]
	}
	return ""
}

// pointer renders an instance location as a JSON pointer (RFC 6901).
func pointer(loc []string) string {
	var b strings.Builder
	for _, t := range loc {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}
