// Package schemas holds the JSON Schemas (draft 2020-12) of the monthly
// ECM and Community Supports monitoring submission to DHCS and of DHCS's
// response to it, embedded in the binary, and validates documents and
// single records against them. A plan that has DHCS's own schema files
// loads them with Load(dir) instead of ours.
package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/calaim-gateway/calaim-gateway/schemas/jsonschema"
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

// Violation is one way a document breaks its schema: the JSON pointer of
// the value, the keyword that failed and what the schema wants.
type Violation = jsonschema.Violation

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
// /properties/<data set>/items, the header's /properties/header. A file
// using a keyword, format or reference the validator does not apply
// (package jsonschema) is refused, its error naming the keyword's JSON
// pointer: a schema is applied in full or not at all.
func Load(dir string) (*Set, error) {
	s := &Set{Origin: map[string]string{}, records: map[string]*jsonschema.Schema{}, docs: map[string]any{}}
	compiled := map[string]*jsonschema.Document{}
	for _, name := range []string{MonthlyFile, ResponseFile} {
		data, origin, err := read(dir, name)
		if err != nil {
			return nil, err
		}
		doc, err := Decode(data)
		if err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", origin, err)
		}
		if compiled[name], err = jsonschema.Compile(doc); err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", origin, err)
		}
		s.Origin[name], s.docs[name] = origin, doc
	}
	s.monthly = compiled[MonthlyFile].Root()
	s.response = compiled[ResponseFile].Root()
	// A data set their schema does not have gets no
	// sub-schema: its values are validated with the whole document.
	props, _ := s.docs[MonthlyFile].(map[string]any)["properties"].(map[string]any)
	for _, ds := range DataSets {
		if arr, ok := props[ds].(map[string]any); ok && arr["items"] != nil {
			sch, err := compiled[MonthlyFile].Schema("/properties/" + ds + "/items")
			if err != nil {
				return nil, fmt.Errorf("schemas: %s: %w", s.Origin[MonthlyFile], err)
			}
			s.records[ds] = sch
		}
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

// Doc returns the parsed schema document of a file name (for the data
// dictionary and comparisons).
func (s *Set) Doc(name string) any { return s.docs[name] }

// Decode reads one JSON value the way the validator needs it (numbers
// kept exact, as json.Number); anything after the value is an error.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("offset %d: %w", dec.InputOffset(), err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("offset %d: data after the JSON value", dec.InputOffset())
	}
	return v, nil
}

// ValidateMonthly validates a whole monthly submission.
func (s *Set) ValidateMonthly(doc any) []Violation { return s.monthly.Validate(doc, "") }

// ValidateResponse validates a DHCS response file.
func (s *Set) ValidateResponse(doc any) []Violation { return s.response.Validate(doc, "") }

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
	return sch.Validate(rec, "/"+dataSet+"/"+strconv.Itoa(index))
}
