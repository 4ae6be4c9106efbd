package x274

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// Party names the information source (the plan) or receiver (DHCS).
type Party struct {
	Name        string // NM103
	IDQualifier string // NM108: "PI" payor ID, "46" ETIN or "FI" tax ID for the source; "46" or "PI" for the receiver
	ID          string // NM109
}

// Contact is a PER segment's name and numbers.
type Contact struct {
	Name  string // PER02
	Phone string // PER03 "TE" + PER04: digits only
	Email string // "EM"
}

// Header holds what is written once per file: envelopes, BHT, the
// submitter contact and the two top levels.
type Header struct {
	Interchange x12.InterchangeHeader // ControlNumber set by the caller; Version forced to 00405
	Group       x12.GroupHeader       // ControlNumber set by the caller; FunctionalID and Version filled in
	// TransactionControl is ST02.
	TransactionControl int64
	Purpose            string    // BHT02 transaction set purpose code
	Reference          string    // BHT03: the sender's identifier of this file
	Created            time.Time // BHT04 and BHT05
	Contact            *Contact  // heading PER; nil = none
	// ContactFunction is the heading PER01: "BJ" in the production file
	// (dhcs-observed-formats.md B7.4 [P]); "" = "BJ".
	ContactFunction string
	// ExtractDate is the heading DTM*507 (directory extract date, B7.4
	// [P]); zero = none written.
	ExtractDate civil.Date
	Source      Party // 2100A NM1*ACV (NM108 FI and the TIN in the production file)
	// Network is the 2100A NM1*NN network name written after the source
	// ("DEFAULT" in the production file, B7.5 [P]); "" = none.
	Network  string
	Receiver Party // 2100B NM1*40 ("DHCS Managed Care", no ID, B7.6 [P]); no IDQualifier = no ID
}

// Group is a contracted organization (2000C/2100C) and its sites.
type Group struct {
	Name        string // NM103
	IDQualifier string // QualTIN ("FI") or QualNPI ("XX")
	ID          string // NM109
	// Names are N201 and N202 (the TIN in N201 when the group is
	// identified by its NPI, as in the production file); none = no N2.
	Names []string
	Sites []Site
}

// Site is a service location (2000D, loop 2100DA).
type Site struct {
	Name        string      // NM103
	NPI         string      // NM109 with NM108 "XX"
	Names       []string    // N201, N202 as written: the DHCS semicolon composites (see Composite) or plain names
	Contact     *Contact    // PER*AJ
	Languages   []string    // LUI*LE: ISO 639 codes
	From, To    civil.Date  // DTP*092 and DTP*093 (To zero: none written)
	Quantities  []Quantity  // QTY
	Conditions  []Condition // CRC, after QTY
	Address     domain.Address
	County      string      // N406 with N405 "CY" ("" = no CY: the county is then in the N2 composite, see CountyCode)
	Specialties []Specialty // 2120DA LQ, each with its TPB
	References  []Reference // REF, after the specializations
	Providers   []Provider  // 2000E
	// Affiliated are the site's affiliated entities (2100DB NM1*30 … EQ),
	// as Read finds them; the Encoder does not write them.
	Affiliated []Party

	// Ordinal and Line locate the site's HL segment in a file Read; the
	// Encoder ignores them.
	Ordinal, Line int64
}

// Provider is a practitioner at the site (2000E, loop 2100EA).
type Provider struct {
	Last, First string // NM103, NM104
	NPI         string // NM109 with NM108 "XX"
	Specialties []Specialty
}

// Specialty is one LQ segment (a code list qualifier and a code) and the
// TPB segments that follow it in its loop.
type Specialty struct {
	Qualifier string   // LQ01
	Code      string   // LQ02
	Titles    []string // TPB01 of each TPB written after the LQ ("3G" or "3E" in the production file)
}

// Condition is one CRC segment: CRC*DJ*Y*1S on every site of the
// production file.
type Condition struct {
	Category   string   // CRC01
	Response   string   // CRC02: Y or N
	Indicators []string // CRC03 onwards (one to five)
}

// Quantity is one QTY segment.
type Quantity struct {
	Qualifier string // QTY01
	Value     int64  // QTY02
}

// Reference is one REF segment.
type Reference struct {
	Qualifier string // REF01
	Value     string // REF02
}

// Encoder writes one 274 interchange: ISA, GS, one ST..SE holding every
// group it is given, SE, GE, IEA. HL numbers, HL04 child codes and all
// counts are computed. It streams: each group is written as it comes.
type Encoder struct {
	w      *x12.Writer
	h      Header
	err    error
	open   bool
	closed bool
	hl     int
	recvHL int
	groups int
	sites  int
	provs  int
}

// NewEncoder returns an Encoder writing to w with delimiters d.
func NewEncoder(w io.Writer, d x12.Delimiters, h Header, opts ...x12.WriterOption) *Encoder {
	h.Interchange.Version = ISAVersion
	h.Group.FunctionalID = FunctionalID
	h.Group.Version = Version
	return &Encoder{w: x12.NewWriter(w, d, opts...), h: h}
}

// Groups, Sites and Providers count what was written.
func (e *Encoder) Groups() int    { return e.groups }
func (e *Encoder) Sites() int     { return e.sites }
func (e *Encoder) Providers() int { return e.provs }

func (e *Encoder) seg(id string, els ...string) {
	if e.err == nil {
		e.err = e.w.Segment(id, els...)
	}
}

// ErrEmpty means a file would hold no group: a 274 needs at least one
// 2000C level.
var ErrEmpty = errors.New("x274: no group to write: a provider file needs at least one site")

func (e *Encoder) begin() {
	if e.open || e.err != nil {
		return
	}
	e.open = true
	h := &e.h
	if e.err = e.w.BeginInterchange(h.Interchange); e.err != nil {
		return
	}
	if e.err = e.w.BeginGroup(h.Group); e.err != nil {
		return
	}
	if e.err = e.w.BeginTransaction(SetID, h.TransactionControl, Version); e.err != nil {
		return
	}
	created := h.Created
	if created.IsZero() {
		created = h.Group.Date
	}
	e.seg("BHT", HierarchicalStructure, h.Purpose, x12.Text(h.Reference, 30), created.Format("20060102"), created.Format("1504"))
	if h.ExtractDate != 0 {
		e.seg("DTM", DateExtract, h.ExtractDate.Compact())
	}
	if c := h.Contact; c != nil {
		fn := h.ContactFunction
		if fn == "" {
			fn = "BJ"
		}
		e.per(fn, c)
	}
	e.hl++
	e.seg("HL", "1", "", LevelSource, "1")
	e.nm1(EntitySource, "2", h.Source.Name, "", h.Source.IDQualifier, h.Source.ID)
	if h.Network != "" {
		e.nm1(EntityNetwork, "2", h.Network, "", "", "")
	}
	e.hl++
	e.recvHL = e.hl
	e.seg("HL", strconv.Itoa(e.hl), "1", LevelReceiver, "1")
	id := ""
	if h.Receiver.IDQualifier != "" {
		id = h.Receiver.ID
	}
	e.nm1(EntityReceiver, "2", h.Receiver.Name, "", h.Receiver.IDQualifier, id)
}

func (e *Encoder) nm1(entity, kind, last, first, qual, id string) {
	e.seg("NM1", entity, kind, x12.Text(last, 60), x12.Text(first, 35), "", "", "", qual, id)
}

func (e *Encoder) per(function string, c *Contact) {
	els := []string{function, x12.Text(c.Name, 60)}
	if p := x12.Digits(c.Phone); p != "" {
		els = append(els, "TE", p)
	}
	if c.Email != "" {
		els = append(els, "EM", c.Email)
	}
	if len(els) > 2 {
		e.seg("PER", els...)
	}
}

// Encode writes one group with its sites and providers.
func (e *Encoder) Encode(g *Group) error {
	if e.err != nil {
		return e.err
	}
	if e.closed {
		return errors.New("x274: Encode after Close")
	}
	if err := checkGroup(g); err != nil {
		return err
	}
	e.begin()
	e.hl++
	groupHL := e.hl
	e.seg("HL", strconv.Itoa(groupHL), strconv.Itoa(e.recvHL), LevelGroup, "1")
	e.nm1(EntityGroup, "2", g.Name, "", g.IDQualifier, g.ID)
	e.n2(g.Names)
	e.groups++
	for i := range g.Sites {
		e.site(&g.Sites[i], groupHL)
	}
	return e.err
}

func (e *Encoder) site(s *Site, parent int) {
	e.hl++
	siteHL := e.hl
	child := "0"
	if len(s.Providers) > 0 {
		child = "1"
	}
	e.seg("HL", strconv.Itoa(siteHL), strconv.Itoa(parent), LevelSite, child)
	e.nm1(EntitySite, "2", s.Name, "", QualNPI, s.NPI)
	e.n2(s.Names)
	if s.Contact != nil {
		e.per("AJ", s.Contact)
	}
	for _, l := range s.Languages {
		e.seg("LUI", QualLanguage, strings.ToLower(l))
	}
	e.seg("DTP", DateEffective, "D8", s.From.Compact())
	if s.To != 0 {
		e.seg("DTP", DateExpiration, "D8", s.To.Compact())
	}
	for _, q := range s.Quantities {
		e.seg("QTY", q.Qualifier, strconv.FormatInt(q.Value, 10))
	}
	for _, c := range s.Conditions {
		e.seg("CRC", append([]string{c.Category, c.Response}, c.Indicators...)...)
	}
	e.seg("NX1", EntitySite)
	e.seg("N3", x12.Text(s.Address.Street, 55))
	county := []string{}
	if s.County != "" {
		county = []string{"", QualCounty, s.County}
	}
	e.seg("N4", append([]string{x12.Text(s.Address.City, 30), s.Address.State, x12.Digits(s.Address.Zip)}, county...)...)
	e.lq(s.Specialties)
	for _, r := range s.References {
		e.seg("REF", r.Qualifier, x12.Text(r.Value, 30))
	}
	e.sites++
	for i := range s.Providers {
		p := &s.Providers[i]
		e.hl++
		e.seg("HL", strconv.Itoa(e.hl), strconv.Itoa(siteHL), LevelProvider, "0")
		e.nm1(EntityProvider, "1", p.Last, p.First, QualNPI, p.NPI)
		e.lq(p.Specialties)
		e.provs++
	}
}

// n2 writes N2 with up to two names (N201, N202); none = no N2.
func (e *Encoder) n2(names []string) {
	if len(names) == 0 {
		return
	}
	if len(names) > 2 {
		names = names[:2]
	}
	els := make([]string, len(names))
	for i, v := range names {
		els[i] = x12.Text(v, 60)
	}
	e.seg("N2", els...)
}

// lq writes each specialization's LQ followed by its TPB segments.
func (e *Encoder) lq(sps []Specialty) {
	for _, sp := range sps {
		e.seg("LQ", sp.Qualifier, x12.Text(sp.Code, 30))
		for _, t := range sp.Titles {
			e.seg("TPB", t)
		}
	}
}

// Close writes the trailers and flushes. A file with no group is an error
// (ErrEmpty): nothing is written then.
func (e *Encoder) Close() error {
	if e.closed {
		return e.err
	}
	e.closed = true
	if e.err != nil {
		return e.err
	}
	if !e.open {
		e.err = ErrEmpty
		return e.err
	}
	if e.err = e.w.EndTransaction(); e.err != nil {
		return e.err
	}
	if e.err = e.w.EndGroup(); e.err != nil {
		return e.err
	}
	e.err = e.w.EndInterchange()
	return e.err
}

// checkGroup refuses what would make an invalid file, naming the record.
func checkGroup(g *Group) error {
	if g.Name == "" || g.ID == "" || (g.IDQualifier != QualTIN && g.IDQualifier != QualNPI) {
		return fmt.Errorf("x274: group %q: name, ID and an ID qualifier (FI or XX) are required", g.Name)
	}
	if g.IDQualifier == QualNPI && len(g.ID) != 10 {
		return fmt.Errorf("x274: group %q: an NPI (XX) of 10 digits is required", g.Name)
	}
	if len(g.Sites) == 0 {
		return fmt.Errorf("x274: group %q has no site", g.Name)
	}
	for i := range g.Sites {
		s := &g.Sites[i]
		switch {
		case s.Name == "" || len(s.NPI) != 10:
			return fmt.Errorf("x274: group %q site %d: a name and a 10-digit NPI are required", g.Name, i+1)
		case s.From == 0:
			return fmt.Errorf("x274: site %s: the contract effective date is required", s.NPI)
		case s.Address.Street == "" || s.Address.City == "" || len(s.Address.State) != 2 || (len(x12.Digits(s.Address.Zip)) != 5 && len(x12.Digits(s.Address.Zip)) != 9):
			return fmt.Errorf("x274: site %s: street, city, state and a 5- or 9-digit ZIP code are required", s.NPI)
		}
		for _, sp := range s.Specialties {
			if sp.Qualifier == "" || sp.Code == "" || slices.Contains(sp.Titles, "") {
				return fmt.Errorf("x274: site %s: a specialization needs a qualifier and a code (and its TPB a code)", s.NPI)
			}
		}
		for _, c := range s.Conditions {
			if c.Category == "" || c.Response == "" || len(c.Indicators) == 0 || len(c.Indicators) > 5 || slices.Contains(c.Indicators, "") {
				return fmt.Errorf("x274: site %s: a CRC needs a category, a Y/N response and one to five indicators", s.NPI)
			}
		}
		for _, p := range s.Providers {
			if p.Last == "" || len(p.NPI) != 10 {
				return fmt.Errorf("x274: site %s: a provider needs a last name and a 10-digit NPI", s.NPI)
			}
		}
	}
	return nil
}
