// Package roster decodes a plan's provider roster (CSV or XLSX, one row per
// provider site) into site records: what each site is contracted for, and
// when. It checks every cell — NPI check digits, taxonomy shape, county,
// dates, populations of focus, Community Supports and provider types
// against the rule tables — and reports each problem with its file, row
// and column. It is a pure transform over rows: no I/O, no state.
package roster

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Column names of the roster template. Header names match case-insensitively.
const (
	ColNPI               = "npi"
	ColTIN               = "tin"
	ColOrganization      = "organization_name"
	ColSiteName          = "site_name"
	ColSiteAddress       = "site_address"
	ColSiteCity          = "site_city"
	ColSiteState         = "site_state"
	ColSiteZip           = "site_zip"
	ColCounty            = "county"
	ColPhone             = "phone"
	ColTaxonomy          = "taxonomy"
	ColProviderTypes     = "provider_types"
	ColPOFs              = "ecm_pofs"
	ColCommunitySupports = "community_supports"
	ColContractStart     = "contract_start"
	ColContractEnd       = "contract_end"
	ColMediCalEnrolled   = "medi_cal_enrolled"
	ColCapacityCurrent   = "capacity_current"
	ColCapacityMax       = "capacity_max"

	ColLanguages        = "languages"
	ColAccessibility    = "accessibility"
	ColPractitionerNPI  = "practitioner_npi"
	ColPractitionerName = "practitioner_name"
	// ColGroupNPI is the contracted organization's NPI: the 274 group is
	// then identified by it (NM1*QV … XX), with the TIN in N2.
	ColGroupNPI = "group_npi"
	// The plan-assigned site identifiers written as the three parts of
	// REF*N5 by the default 274 mapping (what DHCS calls them is not
	// public; docs/providers.md).
	ColFacilityID         = "facility_id"
	ColFacilityLocationID = "facility_location_id"
	ColProviderLocationID = "provider_location_id"
)

// Required lists the columns every roster must have, in template order.
var Required = []string{ColNPI, ColTIN, ColOrganization, ColSiteName, ColSiteAddress, ColSiteCity, ColSiteState,
	ColSiteZip, ColCounty, ColPhone, ColTaxonomy, ColProviderTypes, ColPOFs, ColCommunitySupports, ColContractStart,
	ColContractEnd, ColMediCalEnrolled, ColCapacityCurrent, ColCapacityMax}

// Optional lists the other columns the decoder reads.
var Optional = []string{ColLanguages, ColAccessibility, ColPractitionerNPI, ColPractitionerName, ColGroupNPI, ColFacilityID,
	ColFacilityLocationID, ColProviderLocationID}

// ErrNotRoster means a file lacks the roster template's required columns.
var ErrNotRoster = errors.New("not a provider roster")

// LooksLikeRoster reports whether a header is a roster's: it has the
// columns no other template has (npi, site_address and the contract
// columns). A file that looks like a roster but lacks other required
// columns is reported as a roster with missing columns.
func LooksLikeRoster(h *tabular.Header) bool {
	return h.Index(ColNPI) >= 0 && h.Index(ColSiteAddress) >= 0 &&
		(h.Index(ColPOFs) >= 0 || h.Index(ColCommunitySupports) >= 0 || h.Index(ColContractStart) >= 0)
}

// Practitioner is a person practising at a site (274 loop 2100EA).
type Practitioner struct {
	NPI         string
	Last, First string
}

// Site is one roster row: a provider site and its contract.
type Site struct {
	Source            domain.Source
	NPI               string
	TIN               string // 9 digits
	Organization      string
	Name              string // site name
	Address           domain.Address
	County            string   // two-digit county code
	Phone             string   // 10 digits
	Taxonomy          string   // NUCC code
	Types             []string // provider type ids (rules/data/provider_types.csv)
	POFs              []string // ECM populations of focus (POF1A ...)
	CommunitySupports []string // coding-table service ids (CS01 ... CS14, TR, HO)
	From, To          civil.Date
	MediCalEnrolled   bool
	CapacityCurrent   int // -1 when not given
	CapacityMax       int // -1 when not given
	Languages         []string
	Accessibility     string
	Practitioners     []Practitioner
	GroupNPI          string `json:",omitempty"` // the organization's NPI ("" = the group is identified by its TIN)
	// FacilityID, FacilityLocationID and ProviderLocationID are the
	// plan-assigned site identifiers ("" = not given).
	FacilityID         string `json:",omitempty"`
	FacilityLocationID string `json:",omitempty"`
	ProviderLocationID string `json:",omitempty"`
}

// Key identifies the site among all roster rows: the NPI and the site's
// street address and 5-digit ZIP code, folded (case, punctuation and
// spacing do not matter). Two rows with the same key are the same site;
// the decoder also takes two rows whose streets differ only in accents for
// one site (plainKey).
func (s *Site) Key() string {
	zip := s.Address.Zip
	if len(zip) > 5 {
		zip = zip[:5]
	}
	return s.NPI + "|" + fold(s.Address.Street) + "|" + zip
}

// plainKey is Key with the street's accents dropped first (Unicode NFD,
// combining marks removed): "300 Avenida Peña" is "300 avenida pena",
// where Key reads "300 avenida pe a".
func (s *Site) plainKey() string {
	zip := s.Address.Zip
	if len(zip) > 5 {
		zip = zip[:5]
	}
	return s.NPI + "|" + fold(stripMarks(s.Address.Street)) + "|" + zip
}

// stripMarks decomposes s (NFD) and leaves out its combining marks.
func stripMarks(s string) string {
	if plainASCII(s) {
		return s
	}
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Contract is the site as the rules see it.
func (s *Site) Contract() domain.ProviderContract {
	return domain.ProviderContract{NPI: s.NPI, TIN: s.TIN, Site: s.Name, Address: s.Address, County: s.County,
		Types: slices.Clone(s.Types), POFs: slices.Clone(s.POFs), CommunitySupports: slices.Clone(s.CommunitySupports),
		From: s.From, To: s.To, MediCalEnrolled: s.MediCalEnrolled}
}

// InForceDuring reports whether the contract is in force on at least one
// day of [from, to].
func (s *Site) InForceDuring(from, to civil.Date) bool {
	return s.From <= to && (s.To == 0 || s.To >= from)
}

// Problem is a cell that could not be decoded or fails a check.
type Problem struct {
	File    string
	Row     int
	Column  string // the template column
	Missing bool   // a required value is absent
	Message string // for people; names the value when it is not member data (rosters hold none)
}

func (p Problem) String() string {
	return fmt.Sprintf("%s row %d column %s: %s", p.File, p.Row, p.Column, p.Message)
}

// Tables are the rule tables the checks use.
type Tables struct {
	Rules  *rules.Tables      // counties, POFs, provider types
	Coding *rules.CodingTable // Community Supports names, aliases and ids
}

// Decoder decodes the rows of one roster file.
type Decoder struct {
	// MaxProblems is the most problems DecodeAll keeps in Result.Problems;
	// the rest are counted in Result.More (0 keeps them all). A roster with
	// any problem is not loaded, so the sites of a file with problems are
	// not kept either: memory stays bounded whatever the file holds.
	MaxProblems int
	// MaxSites is the most data rows DecodeAll reads (0: no bound): the
	// sites of a roster are kept until it is loaded whole, so a longer
	// roster is refused (SitesLimitError) and memory stays bounded.
	MaxSites int

	file        string
	spreadsheet bool
	date1904    bool // an XLSX workbook in the 1904 date system
	col         map[string]int
	t           Tables
	seen        map[string]int // site key → first row, for duplicates
}

// NewDecoder checks the header for the template's required columns.
func NewDecoder(h *tabular.Header, format tabular.Format, file string, t Tables) (*Decoder, error) {
	d := &Decoder{file: file, spreadsheet: format == tabular.XLSX, date1904: format == tabular.XLSX && h.Date1904, t: t, seen: map[string]int{}}
	var missing []string
	d.col, missing = h.Columns(Required, Optional)
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: missing column(s) %s", ErrNotRoster, strings.Join(missing, ", "))
	}
	if dups := h.Duplicates(); len(dups) > 0 {
		return nil, fmt.Errorf("%w: column(s) %s appear more than once", ErrNotRoster, strings.Join(dups, ", "))
	}
	if (h.Index(ColPractitionerNPI) >= 0) != (h.Index(ColPractitionerName) >= 0) {
		return nil, fmt.Errorf("%w: practitioner_npi and practitioner_name come together", ErrNotRoster)
	}
	return d, nil
}

// Decode fills s from row and returns the problems found, the duplicate
// check against earlier rows of the file included. s is fully reset.
func (d *Decoder) Decode(row tabular.Row, s *Site) []Problem {
	*s = Site{Source: domain.Source{File: d.file, Row: row.Number}, CapacityCurrent: -1, CapacityMax: -1}
	var ps []Problem
	get := func(c string) string {
		if i, ok := d.col[c]; ok {
			return row.Cell(i)
		}
		return ""
	}
	add := func(c string, missing bool, format string, a ...any) {
		ps = append(ps, Problem{File: d.file, Row: row.Number, Column: c, Missing: missing, Message: fmt.Sprintf(format, a...)})
	}
	req := func(c string) string {
		v := get(c)
		if v == "" {
			add(c, true, "%s is required", c)
		}
		return v
	}
	text := func(c string, max int) string {
		v := req(c)
		switch {
		case utf8.RuneCountInString(v) > max: // characters: x12.Text writes one byte or none for each
			add(c, false, "is longer than %d characters", max)
		case v != "" && x12.Text(v, max) == "":
			// The 274 carries basic Latin only (x12.Text): a value with no
			// such character would leave its element (NM103, N301, N401)
			// empty.
			add(c, false, "has no character a 274 can carry (letters A-Z, digits and punctuation; accents are dropped)")
		}
		return v
	}
	npi := func(c, v string) bool {
		switch {
		case !allDigits(v, 10):
			add(c, false, "%q is not a 10-digit NPI", v)
		case !rules.ValidNPI(v):
			add(c, false, "NPI %s fails the check digit (Luhn over the 80840 prefix)", v)
		default:
			return true
		}
		return false
	}

	if v := req(ColNPI); v != "" && npi(ColNPI, v) {
		s.NPI = v
	}
	if v := req(ColTIN); v != "" {
		tin, ok := rules.NormalizeTIN(v)
		if !ok {
			add(ColTIN, false, "%q is not a 9-digit tax ID (12-3456789 or 123456789)", v)
		}
		s.TIN = tin
	}
	s.Organization = text(ColOrganization, 60)
	s.Name = text(ColSiteName, 60)
	s.Address.Street = text(ColSiteAddress, 55)
	s.Address.City = text(ColSiteCity, 30)
	if v := req(ColSiteState); v != "" {
		s.Address.State = strings.ToUpper(v)
		if !usStates()[s.Address.State] {
			add(ColSiteState, false, "%q is not a two-letter US state code", v)
		}
	}
	if v := req(ColSiteZip); v != "" {
		z := v
		if len(v) == 10 && v[5] == '-' {
			z = v[:5] + v[6:] // ZIP+4 written 94103-1520
		}
		if !allDigits(z, 5) && !allDigits(z, 9) {
			add(ColSiteZip, false, "%q is not a 5- or 9-digit ZIP code", v)
		}
		s.Address.Zip = z
	}
	if v := req(ColCounty); v != "" {
		if code, ok := d.t.Rules.CountyCode(v); ok {
			s.County = code
		} else {
			add(ColCounty, false, "%q is not a California county name or two-digit county code (01 Alameda … 58 Yuba)", v)
		}
	}
	if v := req(ColPhone); v != "" {
		p := x12.Digits(v)
		if len(p) == 11 && p[0] == '1' {
			p = p[1:]
		}
		if len(p) != 10 {
			add(ColPhone, false, "%q is not a 10-digit US phone number", v)
		}
		s.Phone = p
	}
	if v := req(ColTaxonomy); v != "" {
		s.Taxonomy = strings.ToUpper(v)
		if !validTaxonomyShape(s.Taxonomy) {
			add(ColTaxonomy, false, "%q is not a provider taxonomy code (10 letters or digits ending in X, e.g. 251S00000X)", v)
		}
	}
	// Provider types place an ECM site in the Figure 5 pairs of streamlined
	// authorization; a Community Supports-only site needs none. A cell of
	// separators and blanks only lists nothing.
	pofs, css, types := list(get(ColPOFs)), list(get(ColCommunitySupports)), list(get(ColProviderTypes))
	if len(pofs) > 0 && len(types) == 0 {
		add(ColProviderTypes, true, "provider_types is required for a site contracted for ECM (ecm_pofs); a Community Supports-only site may leave it empty")
	}
	for _, v := range types {
		id := strings.ToLower(v)
		if _, ok := d.t.Rules.ProviderTypes[id]; !ok {
			add(ColProviderTypes, false, "%q is not a provider type of rules/data/provider_types.csv (e.g. street_medicine, primary_care, county_specialty_bh, cct_lead_org, ccs_paneled, obgyn)", v)
			continue
		}
		s.Types = appendNew(s.Types, id)
	}
	for _, v := range pofs {
		id := strings.ToUpper(v)
		if _, ok := d.t.Rules.POFs[id]; !ok {
			add(ColPOFs, false, "%q is not an ECM population of focus id (POF1A, POF1B, POF2A, POF2B, POF3A, POF3B, POF4A, POF4B, POF5, POF6, POF7, POF8, POF9)", v)
			continue
		}
		s.POFs = appendNew(s.POFs, id)
	}
	for _, v := range css {
		id, ok := d.t.Coding.ServiceID(v)
		if !ok {
			add(ColCommunitySupports, false, "%q is not a Community Support name, alias or id of the coding table (e.g. CS01, Housing Deposits, Recuperative Care)", v)
			continue
		}
		if legs := d.t.Coding.ServiceLegs(id); len(legs) == 0 || legs[0].Program == rules.ProgramECM {
			add(ColCommunitySupports, false, "%q is ECM, not a Community Support: list the ECM populations of focus in ecm_pofs", v)
			continue
		}
		s.CommunitySupports = appendNew(s.CommunitySupports, id)
	}
	if len(pofs) == 0 && len(css) == 0 {
		add(ColPOFs, true, "a site must be contracted for at least one ECM population of focus (ecm_pofs) or Community Support (community_supports)")
	}
	date := func(c string, required bool) civil.Date {
		var v string
		if required {
			v = req(c)
		} else {
			v = get(c)
		}
		if v == "" {
			return 0
		}
		if dt, ok := d.parseDate(v); ok {
			return dt
		}
		add(c, false, "%q is not a date (want YYYY-MM-DD or MM/DD/YYYY)", v)
		return 0
	}
	s.From = date(ColContractStart, true)
	s.To = date(ColContractEnd, false)
	if s.From != 0 && s.To != 0 && s.To < s.From {
		add(ColContractEnd, false, "contract_end %s is before contract_start %s", s.To, s.From)
	}
	if v := req(ColMediCalEnrolled); v != "" {
		switch strings.ToLower(v) {
		case "y", "yes", "true", "1":
			s.MediCalEnrolled = true
		case "n", "no", "false", "0":
		default:
			add(ColMediCalEnrolled, false, "%q is not Y or N", v)
		}
	}
	count := func(c string) int {
		v := get(c)
		if v == "" {
			return -1
		}
		n, err := strconv.Atoi(v)
		if err != nil && d.spreadsheet {
			if f, ferr := strconv.ParseFloat(v, 64); ferr == nil && f == math.Trunc(f) && f < 1e9 {
				n, err = int(f), nil
			}
		}
		if err != nil || n < 0 || n > 999999999 {
			add(c, false, "%q is not a whole number of members (0 or more)", v)
			return -1
		}
		return n
	}
	s.CapacityCurrent = count(ColCapacityCurrent)
	s.CapacityMax = count(ColCapacityMax)
	for _, v := range list(get(ColLanguages)) {
		l := strings.ToLower(v)
		if !isLanguageCode(l) {
			add(ColLanguages, false, "%q is not an ISO 639 language code (two or three letters, e.g. en, es, zh, vi, tl)", v)
			continue
		}
		s.Languages = appendNew(s.Languages, l)
	}
	if v := get(ColAccessibility); v != "" {
		if utf8.RuneCountInString(v) > 30 {
			add(ColAccessibility, false, "is longer than 30 characters")
		}
		s.Accessibility = v
	}
	npis, names := list(get(ColPractitionerNPI)), list(get(ColPractitionerName))
	if len(npis) != len(names) {
		add(ColPractitionerName, false, "has %d name(s) for %d practitioner_npi value(s): list them in the same order, separated by ;", len(names), len(npis))
	} else {
		for i, v := range npis {
			last, first, ok := strings.Cut(names[i], ",")
			last, first = strings.TrimSpace(last), strings.TrimSpace(first)
			if !ok || last == "" || first == "" || utf8.RuneCountInString(last) > 60 || utf8.RuneCountInString(first) > 35 {
				add(ColPractitionerName, false, "%q is not a person's name written as Last, First", names[i])
				continue
			}
			if x12.Text(last, 60) == "" || x12.Text(first, 35) == "" {
				// 2100EA NM103 is required; the 274 carries basic Latin only.
				add(ColPractitionerName, false, "%q has no character a 274 can carry in the last or first name (letters A-Z, digits and punctuation; accents are dropped)", names[i])
				continue
			}
			if !npi(ColPractitionerNPI, v) {
				continue
			}
			// Each practitioner is one 2000E level under the site.
			if slices.ContainsFunc(s.Practitioners, func(p Practitioner) bool { return p.NPI == v }) {
				add(ColPractitionerNPI, false, "NPI %s is listed more than once: list each practitioner of the site once", v)
				continue
			}
			s.Practitioners = append(s.Practitioners, Practitioner{NPI: v, Last: last, First: first})
		}
	}
	if v := get(ColGroupNPI); v != "" && npi(ColGroupNPI, v) {
		s.GroupNPI = v
	}
	for _, c := range []struct {
		col string
		to  *string
	}{{ColFacilityID, &s.FacilityID}, {ColFacilityLocationID, &s.FacilityLocationID}, {ColProviderLocationID, &s.ProviderLocationID}} {
		v := get(c.col)
		if v != "" && (len(v) > 30 || !siteID(v)) {
			add(c.col, false, "%q is not a site identifier: up to 30 letters, digits, hyphens or dots", v)
			continue
		}
		*c.to = v
	}
	if s.NPI != "" && s.Address.Street != "" && s.Address.Zip != "" {
		// A row is the same site as an earlier one with its key (the store
		// would keep one of them), or with its street the same but for
		// accents (the 274 drops them: one place sent twice).
		k, plain := s.Key(), s.plainKey()
		first, dup := d.seen[k]
		if !dup {
			first, dup = d.seen[plain]
		}
		if dup {
			add(ColSiteAddress, false, "duplicates the site in row %d (same npi, site_address and site_zip): one row per provider site", first)
		} else {
			d.seen[k], d.seen[plain] = row.Number, row.Number
		}
	}
	return ps
}

// Result is a whole roster file decoded.
type Result struct {
	Sites    []Site    // rows without problems (none once a row has a problem: the file is not loaded)
	Rows     int       // data rows read
	BadRows  int       // rows with at least one problem
	Problems []Problem // the problems, in row order, up to Decoder.MaxProblems
	More     int       // problems past Decoder.MaxProblems, counted only
}

// SitesLimitError refuses a roster with more data rows than
// Decoder.MaxSites; it is a tabular.ErrLimit.
type SitesLimitError struct {
	File string
	Row  int // the first row past the limit
	Max  int
}

func (e *SitesLimitError) Error() string {
	return fmt.Sprintf("%s: row %d: more than %d sites in one roster (limits.roster_sites): the roster is refused; split it or raise the limit", e.File, e.Row, e.Max)
}

func (e *SitesLimitError) Unwrap() error { return tabular.ErrLimit }

// ProblemCount is the number of problems found, kept or not.
func (r *Result) ProblemCount() int { return len(r.Problems) + r.More }

// DecodeAll decodes every row of r. A damaged CSV record is a problem of
// its row; only a read error stops it.
func (d *Decoder) DecodeAll(r *tabular.Reader) (*Result, error) {
	res := &Result{}
	bad := func(ps ...Problem) {
		res.BadRows++
		res.Sites = nil
		for _, p := range ps {
			if d.MaxProblems > 0 && len(res.Problems) >= d.MaxProblems {
				res.More++
				continue
			}
			res.Problems = append(res.Problems, p)
		}
	}
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			if res.Rows == 0 {
				// Loaded, a roster without sites would switch the
				// PROVIDER-NOT-CONTRACTED check on (contract_check auto)
				// with no contract to pass a line.
				res.Problems = append(res.Problems, Problem{File: d.file, Row: 1, Column: "-", Message: "no site row under the header: a roster lists at least one provider site"})
			}
			return res, nil
		}
		if err == nil && d.MaxSites > 0 && res.Rows >= d.MaxSites {
			return nil, &SitesLimitError{File: d.file, Row: row.Number, Max: d.MaxSites}
		}
		var rowErr *tabular.RowError
		if errors.As(err, &rowErr) {
			res.Rows++
			bad(Problem{File: d.file, Row: rowErr.Row, Column: "-", Message: rowErr.Err.Error()})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.file, err)
		}
		res.Rows++
		var s Site
		if ps := d.Decode(row, &s); len(ps) > 0 {
			bad(ps...)
			continue
		}
		if res.BadRows == 0 {
			res.Sites = append(res.Sites, s)
		}
	}
}

func (d *Decoder) parseDate(v string) (civil.Date, bool) {
	dt, err := civil.ParseCellIn(v, d.spreadsheet, d.date1904)
	return dt, err == nil
}

// list splits a multi-valued cell at semicolons, dropping empty parts.
func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func appendNew(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

// fold lowercases s and keeps letters and digits, single-spaced.
func fold(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		} else {
			space = true
		}
	}
	return b.String()
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func allDigits(s string, n int) bool {
	if n >= 0 && len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// validTaxonomyShape checks a NUCC Health Care Provider Taxonomy code: ten
// characters, letters and digits, the last one X.
func validTaxonomyShape(s string) bool {
	if len(s) != 10 || s[9] != 'X' {
		return false
	}
	for i := 0; i < 9; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// siteID checks a plan-assigned site identifier: letters, digits, hyphens
// and dots (it is written inside a semicolon composite).
func siteID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLanguageCode(s string) bool {
	if len(s) < 2 || len(s) > 3 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

var usStates = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, s := range strings.Fields(`AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI`) {
		m[s] = true
	}
	return m
})
