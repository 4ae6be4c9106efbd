// Package validate checks files by kind and reports every problem: X12
// (837P, 834, 999, 277CA, 274) against its implementation guide, with the
// data checks of an 834 inside the guide's pass and the 274's after it,
// and the spreadsheet-shaped files (invoices, rosters, authorization and
// other_programs feeds) row by row against the rules. `calgw validate`
// prints the Report of each file.
package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/mappings/authfeed"
	"github.com/calaim-gateway/calaim-gateway/mappings/invoice"
	"github.com/calaim-gateway/calaim-gateway/mappings/programs"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// Status is the outcome of a file's validation.
type Status int

// Statuses, worst last: they are also `calgw validate`'s exit codes.
const (
	OK       Status = 0 // no problem
	Invalid  Status = 1 // the file has problems
	Unusable Status = 2 // the file cannot be checked (unreadable, unknown kind, bad configuration)
)

// Options configure a validation.
type Options struct {
	// Config is the configuration file ("" = built-in defaults). It and
	// the rule set it names are loaded once, when a file first needs them
	// (an X12 file of the generated guides needs neither).
	Config string
	// Providers is the plan's provider roster, as convert reads it from the
	// state store: a line whose billing NPI it knows takes the billing
	// address (and its ZIP+4) from the roster's site, as convert decides
	// it. Nil checks the invoice's billing columns as if the roster knew
	// no provider.
	Providers domain.ProviderDirectory
	// Line receives each line of the report, in order, as it is found:
	// every problem with the file, its position, the field and the reason,
	// and each part's summary. Required.
	Line func(string)
}

// Report is the outcome of one file's validation; its lines went to
// Options.Line.
type Report struct {
	Path   string
	Status Status
	// Err is why the file is Unusable.
	Err error
	// Config is set when the configuration or rule set failed to load: the
	// command, not the file, is at fault.
	Config bool
	// X12 is the implementation guide's summary of an X12 file.
	X12 *ig.Summary
}

// Files validates each file in turn, with GOGC raised while validating
// (see gcPercent), and returns their reports.
func Files(ctx context.Context, paths []string, o Options) []Report {
	defer validateGC()()
	v := &validator{opts: o, ctx: ctx}
	// The rule set loads on another core while the first file is opened
	// and its guide compiled; whoever needs it first waits for it.
	go v.load()
	out := make([]Report, 0, len(paths))
	for _, p := range paths {
		if ctx.Err() != nil {
			break
		}
		out = append(out, v.file(ctx, p))
		if out[len(out)-1].Config {
			break
		}
	}
	return out
}

// validator is the state of one Files call.
type validator struct {
	opts    Options
	cfgOnce sync.Once
	cfg     *config.Config
	cfgErr  error
	once    sync.Once
	rs      *rules.Set
	loadErr error

	rep      *Report         // of the file being validated
	ctx      context.Context // of the Files call: row loops stop when it ends
	findings int             // problems found in the file being validated
}

// limits returns the configured limits (the defaults when the
// configuration does not load: the command reports that where it needs it).
func (v *validator) limits() config.Limits {
	if cfg, err := v.config(); err == nil {
		return cfg.Limits.WithDefaults()
	}
	return config.Limits{}.WithDefaults()
}

// finding prints one problem of the file, up to limits.findings_per_file;
// the rest are counted and summed up when the file ends (file).
func (v *validator) finding(format string, a ...any) {
	if v.findings++; v.findings <= v.limits().FindingsPerFile {
		v.printf(format, a...)
	}
}

// config returns the configuration, loading it on first use.
func (v *validator) config() (*config.Config, error) {
	v.cfgOnce.Do(func() { v.cfg, v.cfgErr = config.Load(v.opts.Config) })
	return v.cfg, v.cfgErr
}

// load returns the configuration and rule set, loading them on first use;
// safe for concurrent use.
func (v *validator) load() (*config.Config, *rules.Set, error) {
	v.once.Do(func() {
		cfg, err := v.config()
		if err != nil {
			v.loadErr = err
			return
		}
		v.rs, v.loadErr = cfg.LoadRules()
	})
	return v.cfg, v.rs, v.loadErr
}

func (v *validator) printf(format string, a ...any) {
	v.opts.Line(strings.TrimSuffix(fmt.Sprintf(format, a...), "\n"))
}

// fail records a configuration or rule-data error: the file is not checked.
func (v *validator) fail(err error) Status {
	v.rep.Config = true
	v.rep.Err = err
	return Unusable
}

// unusable records why the file cannot be checked.
func (v *validator) unusable(err error) Status {
	v.rep.Err = err
	return Unusable
}

// file validates one file.
func (v *validator) file(ctx context.Context, path string) Report {
	rep := Report{Path: path}
	v.rep, v.findings = &rep, 0
	rep.Status = v.validateFile(ctx, path)
	if max := v.limits().FindingsPerFile; v.findings > max {
		v.printf("%s: %d more problem(s) not shown (limits.findings_per_file is %d)\n", path, v.findings-max, max)
	}
	v.rep = nil
	return rep
}

// validateGCPercent is the garbage collector's setting while validating:
// validation keeps little alive (buffers of a few MB) while the data checks
// of an 834 allocate as they go, so collecting at 5× the live heap instead
// of 2× saves about 5% of the time of a large 834 for some 15 MB of RSS.
const validateGCPercent = 400

// validateGC applies validateGCPercent unless GOGC is set, and returns what
// restores the setting.
func validateGC() (restore func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(validateGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// Kind is what a file holds.
type kind string

const (
	kindX12     kind = "x12"
	kindTabular kind = "tabular"
	kindJSON    kind = "json"
	kindHL7     kind = "hl7"
	kindUnknown kind = "unknown"
)

func sniff(path string) (kind, error) {
	f, err := os.Open(path)
	if err != nil {
		return kindUnknown, err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if isUTF16(head) {
		return kindUnknown, errUTF16
	}
	if len(head) >= 3 && string(head[:3]) == "\xef\xbb\xbf" {
		head = head[3:]
	}
	for len(head) > 0 && (head[0] == ' ' || head[0] == '\r' || head[0] == '\n' || head[0] == '\t') {
		head = head[1:]
	}
	if len(head) >= 3 && string(head[:3]) == "ISA" {
		return kindX12, nil
	}
	if len(head) > 0 && head[0] == '{' {
		return kindJSON, nil
	}
	if isHL7(head) {
		return kindHL7, nil
	}
	return kindTabular, nil
}

// errUTF16 is why a UTF-16 file is not checked: X12 is ASCII (or UTF-8),
// and so are the CSV files.
var errUTF16 = errors.New("the file is UTF-16 text (X12 and CSV files must be ASCII or UTF-8): convert it, e.g. iconv -f UTF-16 -t UTF-8")

// isUTF16 reports whether head, the start of a file, is UTF-16 text: a
// UTF-16 byte order mark, or ASCII with a NUL byte before or after every
// character ("I\x00S\x00A\x00").
func isUTF16(head []byte) bool {
	if len(head) >= 2 && (head[0] == 0xFF && head[1] == 0xFE || head[0] == 0xFE && head[1] == 0xFF) {
		return true
	}
	if len(head) < 8 {
		return false
	}
	for _, odd := range []int{0, 1} { // which byte of each pair is NUL
		ok := true
		for i := 0; i+1 < 8 && ok; i += 2 {
			ok = head[i+odd] == 0 && head[i+1-odd] != 0
		}
		if ok {
			return true
		}
	}
	return false
}

// tabularKind is a spreadsheet-shaped file calgw can check (invoice,
// roster, authorization feed, ...). detect looks at the header; the first
// kind that claims it validates the file.
type tabularKind struct {
	name     string
	detect   func(h *tabular.Header) bool
	validate func(v *validator, path string, r *tabular.Reader) Status
}

// tabularKinds lists the spreadsheet-shaped kinds, in the order they are
// offered a header.
var tabularKinds = []tabularKind{
	{name: "invoice", detect: isInvoice, validate: validateInvoice},
	{name: "authorization feed", detect: hasColumns(authfeed.Required), validate: validateAuthFeed},
	{name: "other_programs feed", detect: hasColumns(programs.Required), validate: validatePrograms},
	{name: "roster", detect: roster.LooksLikeRoster, validate: validateRoster},
}

func isInvoice(h *tabular.Header) bool {
	return h.Index(invoice.ColInvoiceNumber) >= 0 && h.Index(invoice.ColMemberCIN) >= 0 && h.Index(invoice.ColBillingNPI) >= 0
}

func (v *validator) validateFile(ctx context.Context, path string) Status {
	k, err := sniff(path)
	if err != nil {
		return v.unusable(err)
	}
	if k == kindX12 {
		return validateX12(ctx, v, path)
	}
	if k == kindHL7 {
		return validateHL7(v, path)
	}
	if k == kindJSON {
		return v.validateJSON(path)
	}
	lim := v.limits()
	r, err := tabular.OpenWith(path, &tabular.Options{MaxRecordBytes: lim.CSVRecordBytes, MaxColumns: lim.FieldsPerRow})
	if err != nil {
		return v.unusable(err)
	}
	defer r.Close()
	for _, tk := range tabularKinds {
		if tk.detect(r.Header) {
			return tk.validate(v, path, r)
		}
	}
	names := make([]string, len(tabularKinds))
	for i, tk := range tabularKinds {
		names[i] = tk.name
	}
	return v.unusable(fmt.Errorf("not X12 and not a known file layout (%s); the first row has %s",
		strings.Join(names, ", "), r.Header.Describe(invoice.Required, invoice.Optional, authfeed.Columns, programs.Columns, roster.Required, roster.Optional)))
}

// validateInvoice decodes every row and applies the stateless rules; the
// duplicate check needs the store and is left to convert. The billing
// address is decided as convert decides it, from Options.Providers' sites
// of the billing NPI when there is a roster.
func validateInvoice(v *validator, path string, r *tabular.Reader) Status {
	cfg, rs, err := v.load()
	if err != nil {
		return v.fail(err)
	}
	dec, err := invoice.NewDecoder(r.Header, r.Format, filepath.Base(path))
	if err != nil {
		return v.unusable(err)
	}
	checker := rules.LineChecker{Coding: rs.Coding, Today: civil.Today(cfg.Location()), MemberID: rs.MemberID}
	sites := rosterSites{dir: v.opts.Providers, by: map[string][]domain.ProviderContract{}}
	var line domain.InvoiceLine
	rows, bad, problems := 0, 0, 0
	skip := map[string]bool{}
	for {
		if err := v.stopped(rows); err != nil {
			return v.unusable(err)
		}
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		rows++
		var rowErr *tabular.RowError
		if errors.As(err, &rowErr) {
			v.finding("%s row %d: %s: %v\n", path, rowErr.Row, rules.FieldInvalid, rowErr.Err)
			bad++
			problems++
			continue
		}
		if err != nil {
			return v.unusable(err)
		}
		clear(skip)
		var ds []rules.Decision
		for _, p := range dec.Decode(row, &line) {
			id := rules.FieldInvalid
			if p.Missing {
				id = rules.FieldMissing
			}
			ds = append(ds, rules.Decision{Rule: id, Field: p.Field, Message: p.Message})
			skip[p.Field] = true
		}
		_, more := checker.Check(&line, skip)
		ds = append(ds, more...)
		if line.Billing.NPI != "" && !skip["billing_address"] && !skip["billing_city"] && !skip["billing_state"] && !skip["billing_zip"] {
			ss, err := sites.of(v.ctx, line.Billing.NPI)
			if err != nil {
				return v.fail(fmt.Errorf("provider roster: %w", err))
			}
			ds = append(ds, rules.BillingAddress(&line, ss)...) // as convert decides it
		}
		for _, d := range ds {
			v.finding("%s row %d (invoice %s line %s): %s %s: %s\n", path, row.Number, line.InvoiceNumber, line.LineNumber, d.Rule, d.Field, d.Message)
		}
		if len(ds) > 0 {
			bad++
			problems += len(ds)
		}
	}
	v.printf("%s: invoice (%s), %d line(s), %d with problems, %d problem(s)\n", path, r.Format, rows, bad, problems)
	if bad > 0 {
		return Invalid
	}
	return OK
}

// rosterSites reads the roster's sites of each billing NPI once (none
// without a roster).
type rosterSites struct {
	dir domain.ProviderDirectory
	by  map[string][]domain.ProviderContract
}

func (r rosterSites) of(ctx context.Context, npi string) ([]domain.ProviderContract, error) {
	if r.dir == nil {
		return nil, nil
	}
	if ss, ok := r.by[npi]; ok {
		return ss, nil
	}
	ss, err := r.dir.Contracts(ctx, npi)
	if err != nil {
		return nil, err
	}
	r.by[npi] = ss
	return ss, nil
}

// x12Extra adds checks of one transaction set (by ST01, e.g. "274") beyond
// the implementation-guide tables: the data-level problems an ingest would
// report. It reads the file itself, after the guide's pass, writes each
// problem to w and returns how many it found.
type x12Extra func(ctx context.Context, v *validator, path string, w io.Writer) (problems int, err error)

// x12Extras lists the extras by the ST01 of the sets they check.
var x12Extras = map[string]x12Extra{x274.SetID: check274, "837": check837}

// An x12Check is an extra that runs inside the guide's pass, as a check of
// one spec's transaction sets: no second reading of the file, and a large
// file is still validated a part per core (it is an ig.SplitCheck). Report
// writes what it found, after the guide's findings, and returns how many
// problems.
type x12Check interface {
	ig.SplitCheck
	Report(w io.Writer) (problems int, err error)
}

type x12CheckKind struct {
	spec *ig.Spec
	new  func(v *validator, path string) (x12Check, error)
}

// x12Checks lists the checks that run inside the guide's pass.
var x12Checks = []x12CheckKind{{ig.Spec834, newEnrollmentCheck}}

// checkSlot makes a file's x12Check when the pass first meets its
// transaction set, and hands the same one out for every set after.
type checkSlot struct {
	make func() (x12Check, error)
	c    x12Check
	err  error
}

func (s *checkSlot) get() ig.Check {
	if s.c == nil && s.err == nil {
		s.c, s.err = s.make()
	}
	if s.err != nil {
		return noCheck{}
	}
	return s.c
}

// noCheck stands in for a check that could not be made (its error is
// reported after the pass).
type noCheck struct{}

func (noCheck) Segment(*ig.Txn, *x12.Segment)            {}
func (noCheck) End(*ig.Txn)                              {}
func (noCheck) Fork() ig.SplitCheck                      { return noCheck{} }
func (noCheck) Full() bool                               { return false }
func (noCheck) Join(ig.SplitCheck, ig.Shift) (err error) { return nil }

// firstSetID returns ST01 of the file's first transaction set, reading no
// further than its first segments ("" when there is none there).
func firstSetID(f io.ReaderAt) string {
	rd := x12.NewReader(io.NewSectionReader(f, 0, 64<<10))
	for range 16 {
		seg, err := rd.Next()
		if err != nil {
			return ""
		}
		if seg.Is("ST") {
			return seg.ElementString(1)
		}
	}
	return ""
}

// validateX12 checks an X12 file against the implementation-guide tables
// (every finding with its position and 999 code), with the registered
// x12Checks inside the same pass, then reports their problems and those of
// the extras registered for the transaction sets it holds. A file that
// opens with a transaction set of an x12Check (an 834) is validated a part
// per core where its guide allows (ig.ValidateAt).
func validateX12(ctx context.Context, v *validator, path string) Status {
	f, err := os.Open(path)
	if err != nil {
		return v.unusable(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return v.unusable(err)
	}
	// The generated guides and the DHCS 274; each is compiled when a set of
	// it first appears.
	reg := ig.NewRegistry()
	if err := x274.Register(reg); err != nil {
		return v.unusable(err)
	}
	slots := make([]*checkSlot, len(x12Checks))
	split := false
	first := firstSetID(f)
	for i, k := range x12Checks {
		s := &checkSlot{make: func() (x12Check, error) { return k.new(v, path) }}
		if err := reg.Use(k.spec, s.get); err != nil {
			return v.unusable(err)
		}
		slots[i] = s
		split = split || first == k.spec.SetID
	}
	sets := map[string]int{}    // ST01 → count
	guides := map[string]bool{} // "837 005010X222A1"
	unsupported := ""           // the first transaction set no guide is registered for
	iv := ig.NewValidator(ig.Options{
		Registry:        reg,
		MaxLoopSegments: v.limits().LoopSegments,
		OnFinding:       func(fd *ig.Finding) { v.finding("%s: %s\n", path, fd.String()) },
		OnTransaction: func(t *ig.TransactionResult) error {
			sets[t.SetID]++
			if t.Spec != nil {
				guides[t.SetID+" "+t.Spec.Version] = true
			} else if len(t.SetID) == 3 {
				version := t.Group.Version
				if version == "" {
					version = t.Reference
				}
				guides[t.SetID+" "+version+" (not supported)"] = true
				if unsupported == "" {
					unsupported = fmt.Sprintf("unsupported transaction set %s (%s)", t.SetID, version)
				}
			}
			if t.Status == ig.Rejected {
				v.printf("%s: transaction set %s %s at segment %d: rejected (%d finding(s))\n",
					path, t.SetID, t.Control, t.Pos.Ordinal, len(t.Findings)+t.Dropped)
			}
			return nil
		},
	})
	var sum ig.Summary
	if split {
		sum, err = iv.ValidateAt(ctx, f, st.Size())
	} else {
		sum, err = iv.Validate(ctx, io.NewSectionReader(f, 0, st.Size()))
	}
	if err != nil {
		return v.unusable(err)
	}
	v.rep.X12 = &sum
	names := make([]string, 0, len(guides))
	for k := range guides {
		names = append(names, k)
	}
	sort.Strings(names)
	if sum.TA1s > 0 {
		names = append(names, fmt.Sprintf("TA1 (%d)", sum.TA1s))
	}
	v.printf("%s: X12 %s, %d segment(s), %d interchange(s), %d group(s), %d transaction set(s): %d accepted, %d accepted with errors, %d rejected; %d finding(s)\n",
		path, strings.Join(names, ", "), sum.Segments, sum.Interchanges, sum.Groups, sum.Transactions, sum.Accepted, sum.WithErrors, sum.Rejected, sum.Findings)
	if unsupported != "" {
		// X12, but of a guide calgw has no tables for (835, 837I, 270,
		// 4010, ...): the file cannot be checked.
		return v.unusable(errors.New(unsupported))
	}
	code := OK
	if !sum.OK() {
		code = Invalid
	}
	for _, s := range slots {
		if s.err != nil {
			return v.unusable(s.err)
		}
		if s.c == nil {
			continue // no transaction set of its spec
		}
		n, err := s.c.Report(v.lines())
		if err != nil {
			return v.unusable(err)
		}
		if n > 0 {
			code = Invalid
		}
	}
	ids := make([]string, 0, len(sets))
	for id := range sets {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		extra, ok := x12Extras[id]
		if !ok {
			continue
		}
		n, err := extra(ctx, v, path, v.lines())
		if err != nil {
			return v.unusable(err)
		}
		if n > 0 {
			code = Invalid
		}
	}
	return code
}

// lines returns a writer that hands each whole line written to it to
// Options.Line (the checks that write their reports).
func (v *validator) lines() io.Writer { return &lineWriter{line: v.opts.Line} }

type lineWriter struct {
	line func(string)
	buf  []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			return n, nil
		}
		if len(w.buf) > 0 {
			w.buf = append(w.buf, p[:i]...)
			w.line(string(w.buf))
			w.buf = w.buf[:0]
		} else {
			w.line(string(p[:i]))
		}
		p = p[i+1:]
	}
}

// stopped reports the context's end, looked at every 256 rows.
func (v *validator) stopped(rows int) error {
	if rows%256 != 0 {
		return nil
	}
	return v.ctx.Err()
}
