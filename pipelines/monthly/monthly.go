// Package monthly builds the monthly ECM and Community Supports monitoring
// JSON for DHCS from the state store (`calgw report monthly`, the daemon's
// monthly-report job) and reads DHCS's response to it (`calgw ingest --kind
// dhcs-response`).
//
// The builder streams: it reads the members in order, maps each one's
// records (mappings/monthly), validates every record against its data
// set's sub-schema as it goes and spools it to a temporary file per data
// set; then it writes the file (data sets, then the header with the
// counts), validates the outline, and renames it into place. An invalid
// record stops nothing until the end, where the file is not written and
// every violation is returned (ErrInvalid). The same state gives the same
// name and the same bytes.
package monthly

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	mm "github.com/calaim-gateway/calaim-gateway/mappings/monthly"
	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/schemas"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Kind is the file kind in the name <PLAN>_<KIND>_<YYYYMMDD>_<NNNNN>.json.
const Kind = "ECMCS"

// SchemaVersion is the schemaVersion of the gateway's schema.
const SchemaVersion = "gateway-1.0"

// Store is what the job reads and keeps (store.SQLite, store.Postgres).
type Store interface {
	store.MonitoringStore
}

// Job is one month's build.
type Job struct {
	Month  mp.Month
	OutDir string
	Store  Store
	Config *config.Config
	Rules  *rules.Set
	Log    *slog.Logger
}

// Result is what a build wrote.
type Result struct {
	Path       string // the JSON file
	SideReport string // what is absent, left out, or differs from schemas_dir
	Version    int
	Type       string // Original or Resubmission
	Counts     map[string]int
	Violations []schemas.Violation // with ErrInvalid: the first maxViolations
	Invalid    int                 // with ErrInvalid: how many in all
	Mismatches []schemas.Mismatch  // with schemas_dir: where the builder and those files differ
}

// ErrInvalid means the document broke its schema: no file was written.
var ErrInvalid = errors.New("the monthly monitoring file breaks its schema: not written")

// maxViolations is how many violations a Result keeps.
const maxViolations = 1000

var prefixes = map[string]string{
	mm.DSEnrollment: "ENR", mm.DSPOF: "POF", mm.DSOutreach: "OUT", mm.DSECMAuths: "EAU", mm.DSLeadCareManager: "LCM",
	mm.DSECMNetwork: "ENW", mm.DSCSAuths: "CAU", mm.DSCSServices: "CSV", mm.DSCSUtilization: "CUT", mm.DSCSNetwork: "CNW",
	mm.DSClosedLoop: "CLR", mm.DSTransitionalRent: "TRN",
}

var planName = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9-]{1,30}$`) })

// Plan returns the plan identity the file is built for: the DHCS
// encounter trading partner's plan block.
func Plan(cfg *config.Config) (config.Plan, error) {
	tp, ok := cfg.Partners[cfg.Encounters.TradingPartner]
	if !ok {
		return config.Plan{}, fmt.Errorf("encounters.trading_partner %q is not in trading_partners", cfg.Encounters.TradingPartner)
	}
	pl := tp.Plan
	if !planName().MatchString(pl.Name) {
		return pl, fmt.Errorf("trading_partners.%s.plan.name %q: the monthly file needs a plan name of 1 to 30 letters, digits or hyphens (<PLAN> of its file name)", cfg.Encounters.TradingPartner, pl.Name)
	}
	if len(pl.HCPs()) == 0 {
		return pl, fmt.Errorf("trading_partners.%s.plan: no hcp_codes or default_hcp: every monthly record carries the plan code of its county", cfg.Encounters.TradingPartner)
	}
	return pl, nil
}

// FileName is the file's deterministic name.
func FileName(plan string, month mp.Month, version int) string {
	return fmt.Sprintf("%s_%s_%s_%05d.json", plan, Kind, month.Last().Compact(), version)
}

// Run builds the month's file into job.OutDir.
func Run(ctx context.Context, job Job) (*Result, error) {
	log := job.Log
	if log == nil {
		log = slog.Default()
	}
	plan, err := Plan(job.Config)
	if err != nil {
		return nil, err
	}
	set, err := schemas.Load(job.Config.SchemasDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(job.OutDir, 0o750); err != nil {
		return nil, fmt.Errorf("monthly: %w", err)
	}
	res := &Result{Counts: map[string]int{}}
	if job.Config.SchemasDir != "" {
		ours, err := schemas.Embedded()
		if err != nil {
			return nil, err
		}
		res.Mismatches = schemas.Compare(ours, set)
	}
	month := job.Month.String()
	latest, responded, err := job.Store.LatestVersion(ctx, month)
	if err != nil {
		return nil, err
	}
	res.Version = max(latest, 1)
	if responded {
		res.Version = latest + 1
	}
	res.Type = "Original"
	var prior map[string]store.SubmittedRecord // by key hash: the latest verdict of each record sent before
	if res.Version > 1 {
		res.Type = "Resubmission"
		recs, err := job.Store.SubmittedRecords(ctx, month)
		if err != nil {
			return nil, err
		}
		prior = map[string]store.SubmittedRecord{}
		for _, r := range recs {
			if r.Version < res.Version {
				prior[r.DataSet+"|"+r.KeyHash] = r
			}
		}
	}
	asOf, err := job.Store.StateAsOf(ctx)
	if err != nil {
		return nil, err
	}
	if asOf.IsZero() {
		asOf = job.Month.Last().Time()
	}
	name := FileName(plan.Name, job.Month, res.Version)
	res.Path = filepath.Join(job.OutDir, name)
	res.SideReport = strings.TrimSuffix(res.Path, ".json") + ".report.txt"

	b := &builder{job: &job, set: set, res: res, prior: prior, version: res.Version, month: job.Month, checks: newChecker(set)}
	defer b.checks.finish()
	mapper := mm.NewMapper(mm.Params{From: job.Month.First(), To: job.Month.Last(), PlanCode: plan.HCPFor,
		POFName: pofNames(job.Rules), ServiceName: serviceNames(job.Rules)})
	if err := b.openSpools(); err != nil {
		return nil, err
	}
	defer b.closeSpools()
	var out *atomicfile.File
	build := func(yield func(store.SubmittedRecord) error) error {
		b.yield = yield
		var mem mm.Member
		err := job.Store.EachMonthMember(ctx, job.Month.First(), job.Month.Last(), func(m *store.MonthMember) error {
			mem = mm.Member{CIN: m.CIN, Enrollee: m.Enrollee, Auths: m.Auths, Services: m.Services}
			return mapper.Member(&mem, b.emit)
		})
		if err != nil {
			return err
		}
		if err := mapper.Utilization(b.emit); err != nil {
			return err
		}
		recs, err := job.Store.ProviderSiteRecords(ctx, job.Month.First(), job.Month.Last())
		if err != nil {
			return err
		}
		sites := make([]roster.Site, 0, len(recs))
		for _, r := range recs {
			var s roster.Site
			if err := json.Unmarshal(r, &s); err != nil {
				return fmt.Errorf("monthly: a roster site record: %w", err)
			}
			sites = append(sites, s)
		}
		if err := mapper.Networks(sites, b.emit); err != nil {
			return err
		}
		vs, n := b.checks.finish()
		res.Invalid += n
		res.Violations = append(res.Violations, vs...)
		header := b.header(plan, asOf)
		if err := b.validateOutline(header); err != nil {
			return err
		}
		if res.Invalid > 0 {
			return ErrInvalid
		}
		out, err = b.write(header)
		return err
	}
	err = job.Store.ReplaceSubmission(ctx, month, res.Version, build)
	if errors.Is(err, ErrInvalid) {
		return res, ErrInvalid
	}
	if err != nil {
		if out != nil {
			out.Abort()
		}
		return nil, err
	}
	if err := out.Commit(); err != nil {
		return nil, err
	}
	if err := b.sideReport(mapper.Gaps); err != nil {
		return nil, err
	}
	log.Info("monthly monitoring file written", "file", name, "version", res.Version, "records", b.total)
	return res, nil
}

func pofNames(rs *rules.Set) map[string]string {
	out := map[string]string{}
	for id, p := range rs.Tables.POFs {
		out[id] = p.Name
	}
	return out
}

func serviceNames(rs *rules.Set) map[string]string {
	out := map[string]string{}
	for _, l := range rs.Coding.Legs {
		if l.ServiceID != mm.ServiceECM {
			if _, ok := out[l.ServiceID]; !ok {
				out[l.ServiceID] = l.ServiceName
			}
		}
	}
	return out
}

// builder is the state of one build.
type builder struct {
	job     *Job
	set     *schemas.Set
	res     *Result
	prior   map[string]store.SubmittedRecord
	version int
	month   mp.Month
	yield   func(store.SubmittedRecord) error
	spools  map[string]*spool
	checks  *checker
	total   int
}

type spool struct {
	f *os.File
	w *bufio.Writer
	n int
}

func (b *builder) openSpools() error {
	b.spools = map[string]*spool{}
	for _, ds := range schemas.DataSets {
		f, err := os.CreateTemp(b.job.OutDir, ".monthly-"+ds+"-*")
		if err != nil {
			b.closeSpools()
			return fmt.Errorf("monthly: %w", err)
		}
		b.spools[ds] = &spool{f: f, w: bufio.NewWriterSize(f, 64<<10)}
	}
	return nil
}

func (b *builder) closeSpools() {
	for _, s := range b.spools {
		s.f.Close()
		os.Remove(s.f.Name())
	}
}

// emit gives a record its identity, validates it against its data set's
// schema, spools it, and records it for the month's submissions.
func (b *builder) emit(ds, key string, r mm.Record) error {
	sum := sha256.Sum256([]byte(b.month.String() + "|" + ds + "|" + key))
	keyHash := hex.EncodeToString(sum[:8])
	base := mm.BaseOf(r)
	base.RecordID = fmt.Sprintf("%s%s%03d-%s", prefixes[ds], b.month.Compact(), b.version, keyHash)
	base.RecordType = "Original"
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	content := contentHash(data)
	if b.prior != nil {
		p, sent := b.prior[ds+"|"+keyHash]
		switch {
		case !sent || p.Status == store.RecordRejected:
			// new, or never accepted: an Original
		case p.ContentHash == content:
			return nil // accepted as it is: not sent again
		default:
			base.RecordType, base.ParentRecordID = "Resubmission", p.RecordID
			if data, err = json.Marshal(r); err != nil {
				return err
			}
		}
	}
	sp := b.spools[ds]
	b.checks.check(ds, sp.n, data)
	if sp.n > 0 {
		sp.w.WriteString(",\n")
	}
	sp.w.Write(data)
	sp.n++
	b.total++
	b.res.Counts[ds]++
	return b.yield(store.SubmittedRecord{RecordID: base.RecordID, DataSet: ds, KeyHash: keyHash, ContentHash: content, CIN: mm.MemberOf(r)})
}

// contentHash hashes a record's content: its JSON from planCode on (the
// identity fields come before it).
func contentHash(data []byte) string {
	i := strings.Index(string(data), `"planCode":`)
	sum := sha256.Sum256(data[max(i, 0):])
	return hex.EncodeToString(sum[:8])
}

// Header is the file's header (schemas/monthly.schema.json#/$defs/header).
type Header struct {
	PlanParent        string         `json:"planParent"`
	PlanCodes         []string       `json:"planCodes"`
	SubmissionDate    string         `json:"submissionDate"`
	ReportingPeriod   string         `json:"reportingPeriod"`
	SubmissionType    string         `json:"submissionType"`
	SubmissionVersion string         `json:"submissionVersion"`
	SchemaVersion     string         `json:"schemaVersion"`
	FileID            string         `json:"fileId"`
	GeneratedAt       string         `json:"generatedAt"`
	RecordCounts      map[string]int `json:"recordCounts"`
}

func (b *builder) header(plan config.Plan, asOf time.Time) *Header {
	counts := map[string]int{}
	for _, ds := range schemas.DataSets {
		counts[ds] = b.spools[ds].n
	}
	return &Header{PlanParent: plan.Name, PlanCodes: plan.HCPs(), SubmissionDate: civil.FromTime(asOf).Compact(),
		ReportingPeriod: b.month.Last().Compact(), SubmissionType: b.res.Type, SubmissionVersion: fmt.Sprintf("%03d", b.version),
		SchemaVersion: SchemaVersion, FileID: strings.TrimSuffix(filepath.Base(b.res.Path), ".json"),
		GeneratedAt: asOf.UTC().Format(time.RFC3339), RecordCounts: counts}
}

// validateOutline validates the header and the document's shape (every
// data set an array) against the whole schema, the records having been
// validated one by one.
func (b *builder) validateOutline(h *Header) error {
	data, err := json.Marshal(h)
	if err != nil {
		return err
	}
	hv, err := schemas.Decode(data)
	if err != nil {
		return err
	}
	outline := map[string]any{"header": hv}
	for _, ds := range schemas.DataSets {
		outline[ds] = []any{}
	}
	for _, x := range b.set.ValidateMonthly(outline) {
		b.res.Invalid++
		if len(b.res.Violations) < maxViolations {
			b.res.Violations = append(b.res.Violations, x)
		}
	}
	return nil
}

// write assembles the file from the spools: the data sets in schema order,
// one record a line, then the header.
func (b *builder) write(h *Header) (*atomicfile.File, error) {
	out, err := atomicfile.Create(b.res.Path, ".monthly-")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(out, 256<<10)
	w.WriteString("{\n")
	for _, ds := range schemas.DataSets {
		sp := b.spools[ds]
		if err := sp.w.Flush(); err != nil {
			out.Abort()
			return nil, err
		}
		fmt.Fprintf(w, "%q: [", ds)
		if sp.n > 0 {
			w.WriteString("\n")
			if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
				out.Abort()
				return nil, err
			}
			if _, err := io.Copy(w, sp.f); err != nil {
				out.Abort()
				return nil, err
			}
			w.WriteString("\n")
		}
		w.WriteString("],\n")
	}
	hd, err := json.Marshal(h)
	if err != nil {
		out.Abort()
		return nil, err
	}
	w.WriteString(`"header": `)
	w.Write(hd)
	w.WriteString("\n}\n")
	if err := w.Flush(); err != nil {
		out.Abort()
		return nil, err
	}
	if err := out.Sync(); err != nil {
		out.Abort()
		return nil, err
	}
	return out, nil
}

// sideReport writes what the file leaves absent or out, and why.
func (b *builder) sideReport(gaps mm.Gaps) error {
	var s strings.Builder
	fmt.Fprintf(&s, "Monthly monitoring file %s (%s, version %03d)\n\nRecords per data set:\n", filepath.Base(b.res.Path), b.res.Type, b.version)
	for _, ds := range schemas.DataSets {
		fmt.Fprintf(&s, "  %-22s %d\n", ds, b.res.Counts[ds])
	}
	s.WriteString("\nNot in the file: no source in the gateway's state (null where the schema allows it, never invented):\n")
	for _, a := range mm.Absent {
		fmt.Fprintf(&s, "  %s: %s: %s\n", a.Where, a.What, a.Why)
	}
	s.WriteString("\nLeft out of the file:\n")
	if len(gaps) == 0 {
		s.WriteString("  nothing\n")
	}
	for _, k := range slices.Sorted(mapKeys(gaps)) {
		fmt.Fprintf(&s, "  %s: %d\n", k, gaps[k])
	}
	if b.version > 1 {
		s.WriteString("\nResubmission: records DHCS accepted unchanged are not sent again; rejected ones are sent as new Originals; changed accepted ones as Resubmissions naming the accepted record. An accepted record the state no longer gives is not voided (a Void carries the record's content, which the store does not keep): void it by hand.\n")
	}
	if len(b.res.Mismatches) > 0 {
		fmt.Fprintf(&s, "\nschemas_dir: where the gateway's builder and %s differ:\n", b.set.Origin[schemas.MonthlyFile])
		for _, m := range b.res.Mismatches {
			fmt.Fprintf(&s, "  %s\n", m)
		}
	}
	return atomicfile.WriteFile(b.res.SideReport, []byte(s.String()))
}

func mapKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
