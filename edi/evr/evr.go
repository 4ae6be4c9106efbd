// Package evr reads DHCS's Encounter Validation Response (EVR), the XML
// answer to an encounter file (namespace
// http://www.dhcs.ca.gov/EDS/DHCSResponse; the tree is in
// docs/sources/dhcs-observed-formats.md B4 [I]):
//
//	EncounterValidationResponse
//	  EncounterFileName, EncounterSubmitterName, EncounterSubmissionDate, ValidationStatus
//	  Transactions/Transaction[@Status]
//	    TransactionNumber
//	    Identifiers/Envelope[@IdentifierName][@IdentifierValue]   ISAControlNumber, GroupControlNumber, OriginatorTransactionId
//	    Encounters/Encounter[@Status]
//	      IdentifierType, EncounterReferenceNumber (CLM01), EncounterId (DHCS Encounter ID)
//	      EncounterResponses/Response[@Severity]  Id, IsSNIP, Description
//	      ServiceLines/Service[@Line]/Response[@Severity]  Id, Description
//
// It streams: one Encounter is in memory at a time, however large the file.
// A Response element outside any Encounter (not in the files observed) is
// kept as a finding of its Transaction, or of the file outside one (the
// first MaxResponses of each).
package evr

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Namespace is the EVR's XML namespace.
const Namespace = "http://www.dhcs.ca.gov/EDS/DHCSResponse"

// MaxResponses is how many Response elements outside encounters are kept
// per Transaction and for the file; more are read and left out.
const MaxResponses = 100

// Header is the file-level part of an EVR.
type Header struct {
	FileName         string // EncounterFileName: the encounter file answered
	SubmitterName    string
	SubmissionDate   string
	ValidationStatus string     // Accepted | Rejected
	Responses        []Response // Response elements outside any Transaction
}

// Transaction is the transaction set an encounter came in.
type Transaction struct {
	Status  string // @Status
	Number  string // TransactionNumber
	ISA13   string // Envelope ISAControlNumber
	GS06    string // Envelope GroupControlNumber
	TransID string // Envelope OriginatorTransactionId

	Encounters int        // how many Encounter elements were read in it so far
	Responses  []Response // Response elements in it outside its encounters
}

// Response is one finding DHCS reports.
type Response struct {
	Severity    string `xml:"Severity,attr"`
	ID          string `xml:"Id"`
	IsSNIP      string `xml:"IsSNIP"`
	Description string `xml:"Description"`
}

// Service is a service line's findings.
type Service struct {
	Line      string     `xml:"Line,attr"`
	Responses []Response `xml:"Response"`
}

// Encounter is one encounter's answer.
type Encounter struct {
	Status      string     `xml:"Status,attr"`
	Type        string     `xml:"IdentifierType"`
	Reference   string     `xml:"EncounterReferenceNumber"` // CLM01
	EncounterID string     `xml:"EncounterId"`
	Responses   []Response `xml:"EncounterResponses>Response"`
	Services    []Service  `xml:"ServiceLines>Service"`
	Line        int        `xml:"-"` // line of its start tag in the file
}

// Read reads an EVR from r, calling fn for each encounter in order with
// the header read so far and its transaction. It returns the header.
func Read(r io.Reader, fn func(h *Header, t *Transaction, e *Encounter) error) (*Header, error) {
	return ReadTransactions(r, fn, nil)
}

// ReadTransactions is Read that also calls end, when not nil, at the end
// of each Transaction element with the header read so far and the
// transaction as read (its Encounters count and Responses).
func ReadTransactions(r io.Reader, fn func(h *Header, t *Transaction, e *Encounter) error, end func(h *Header, t *Transaction) error) (*Header, error) {
	d := xml.NewDecoder(r)
	var (
		h     Header
		t     Transaction
		inT   bool // inside a Transaction element
		root  bool
		field *string
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			return nil, fmt.Errorf("evr: line %d: %w", line, err)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			if !root {
				if tk.Name.Local != "EncounterValidationResponse" || tk.Name.Space != Namespace {
					return nil, fmt.Errorf("evr: the root element is {%s}%s, not an EncounterValidationResponse of %s", tk.Name.Space, tk.Name.Local, Namespace)
				}
				root = true
				continue
			}
			field = nil
			switch tk.Name.Local {
			case "EncounterFileName":
				field = &h.FileName
			case "EncounterSubmitterName":
				field = &h.SubmitterName
			case "EncounterSubmissionDate":
				field = &h.SubmissionDate
			case "ValidationStatus":
				field = &h.ValidationStatus
			case "TransactionNumber":
				field = &t.Number
			case "Transaction":
				t, inT = Transaction{Status: attr(tk, "Status")}, true
			case "Envelope":
				v := attr(tk, "IdentifierValue")
				switch attr(tk, "IdentifierName") {
				case "ISAControlNumber":
					t.ISA13 = v
				case "GroupControlNumber":
					t.GS06 = v
				case "OriginatorTransactionId":
					t.TransID = v
				}
			case "Encounter":
				line, _ := d.InputPos()
				var e Encounter
				if err := d.DecodeElement(&e, &tk); err != nil {
					return nil, fmt.Errorf("evr: encounter at line %d: %w", line, err)
				}
				e.Line = line
				e.Reference, e.EncounterID = strings.TrimSpace(e.Reference), strings.TrimSpace(e.EncounterID)
				t.Encounters++
				if err := fn(&h, &t, &e); err != nil {
					return nil, err
				}
			case "Response":
				line, _ := d.InputPos()
				var resp Response
				if err := d.DecodeElement(&resp, &tk); err != nil {
					return nil, fmt.Errorf("evr: response at line %d: %w", line, err)
				}
				rs := &h.Responses
				if inT {
					rs = &t.Responses
				}
				if len(*rs) < MaxResponses {
					*rs = append(*rs, resp)
				}
			}
		case xml.CharData:
			if field != nil {
				*field += strings.TrimSpace(string(tk))
			}
		case xml.EndElement:
			field = nil
			if tk.Name.Local == "Transaction" && inT {
				inT = false
				if end != nil {
					if err := end(&h, &t); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	if !root {
		return nil, fmt.Errorf("evr: no EncounterValidationResponse element")
	}
	return &h, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// Errors lists the encounter's findings in words, encounter level first,
// then each service line's: "0x39395df (SNIP): description",
// "line 2: 0x001C3: description". Findings of severity Information are
// left out.
func (e *Encounter) Errors() []string {
	out := Errors(e.Responses)
	for _, sv := range e.Services {
		for _, r := range sv.Responses {
			if s := r.text(); s != "" {
				out = append(out, "line "+sv.Line+": "+s)
			}
		}
	}
	return out
}

// Errors lists findings in words, as Encounter.Errors does: those of a
// Transaction or of the file.
func Errors(rs []Response) []string {
	var out []string
	for _, r := range rs {
		if s := r.text(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (r Response) text() string {
	if strings.EqualFold(r.Severity, "information") || strings.EqualFold(r.Severity, "info") {
		return ""
	}
	s := strings.TrimSpace(r.ID)
	if strings.EqualFold(strings.TrimSpace(r.IsSNIP), "true") || strings.TrimSpace(r.IsSNIP) == "1" {
		s += " (SNIP)"
	}
	if d := strings.TrimSpace(r.Description); d != "" {
		s += ": " + d
	}
	return s
}
