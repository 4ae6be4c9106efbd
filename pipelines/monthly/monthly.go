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
	"cmp"
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
	"github.com/calaim-gateway/calaim-gateway/internal/scratch"
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
const SchemaVersion = "gateway-1.1"

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
	res.Type = mm.TypeOriginal
	var standing map[string]*standingRecord // by data set and key hash: what DHCS holds of the month's earlier files
	if res.Version > 1 {
		res.Type = mm.TypeResubmission
		if standing, err = standingRecords(ctx, job.Store, month, res.Version); err != nil {
			return nil, err
		}
	}
	asOf, err := job.Store.StateAsOf(ctx)
	if err != nil {
		return nil, err
	}
	// The file's date is the state's, as a calendar date where the plan
	// is (timezone): a change at 5 p.m. on the 4th in Los Angeles is on
	// the 4th, not on the UTC 5th. An empty state dates the month's last day.
	submitted := job.Month.Last()
	if asOf.IsZero() {
		asOf = job.Month.Last().Time()
	} else {
		submitted = civil.FromTime(asOf.In(job.Config.Location()))
	}
	name := FileName(plan.Name, job.Month, res.Version)
	res.Path = filepath.Join(job.OutDir, name)
	res.SideReport = strings.TrimSuffix(res.Path, ".json") + ".report.txt"

	b := &builder{job: &job, set: set, res: res, standing: standing, voided: map[string]int{}, unvoidable: map[string]int{},
		version: res.Version, month: job.Month, checks: newChecker(set)}
	defer b.checks.finish()
	mapper := mm.NewMapper(mm.Params{From: job.Month.First(), To: job.Month.Last(), PlanCode: plan.HCPFor,
		POFName: pofNames(job.Rules), ServiceName: serviceNames(job.Rules), Periods: job.Rules.Data})
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
		if err := b.voids(ctx); err != nil {
			return err
		}
		vs, n := b.checks.finish()
		res.Invalid += n
		res.Violations = append(res.Violations, vs...)
		header := b.header(plan, asOf, submitted)
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

// standingRecord is the record DHCS holds for one identity of the month;
// its body is read only when it is voided.
type standingRecord struct {
	dataSet, keyHash string
	mm.Sent
}

// standingRecords returns, by data set and key hash, the record DHCS holds
// for each identity sent in the month's files before version (mm.Next over
// the records in version order, read one at a time).
func standingRecords(ctx context.Context, st Store, month string, version int) (map[string]*standingRecord, error) {
	out := map[string]*standingRecord{}
	err := st.EachSubmittedRecord(ctx, month, version, func(r *store.SubmittedRecord) error {
		k := r.DataSet + "|" + r.KeyHash
		cur := out[k]
		var held mm.Sent
		if cur != nil {
			held = cur.Sent
		}
		next, ok := mm.Next(held, cur != nil, mm.Sent{RecordID: r.RecordID, RecordType: cmp.Or(r.RecordType, mm.TypeOriginal), Status: r.Status,
			ContentHash: r.ContentHash, CIN: r.CIN})
		switch {
		case !ok:
			delete(out, k)
		case cur == nil:
			out[k] = &standingRecord{dataSet: r.DataSet, keyHash: r.KeyHash, Sent: next}
		default:
			cur.Sent = next
		}
		return nil
	})
	return out, err
}

// builder is the state of one build.
type builder struct {
	job      *Job
	set      *schemas.Set
	res      *Result
	standing map[string]*standingRecord // nil for a month's first file
	// voided counts the Voids per data set; unvoidable the records to
	// withdraw that the store keeps no body of (void them by hand).
	voided, unvoidable map[string]int
	version            int
	month              mp.Month
	yield              func(store.SubmittedRecord) error
	spools             map[string]*spool
	checks             *checker
	total              int
}

type spool struct {
	f *os.File
	w *bufio.Writer
	n int
}

func (b *builder) openSpools() error {
	b.spools = map[string]*spool{}
	for _, ds := range schemas.DataSets {
		f, err := scratch.File(b.job.OutDir, ".monthly-"+ds+"-*")
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
	}
}

// emit gives a record its identity, validates it against its data set's
// schema, spools it, and records it for the month's submissions.
func (b *builder) emit(ds, key string, r mm.Record) error {
	sum := sha256.Sum256([]byte(b.month.String() + "|" + ds + "|" + key))
	keyHash := hex.EncodeToString(sum[:8])
	base := mm.BaseOf(r)
	base.RecordID = b.recordID(ds, keyHash)
	base.RecordType = mm.TypeOriginal
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	content := contentHash(data)
	if b.standing != nil {
		k := ds + "|" + keyHash
		var held *mm.Sent
		if st := b.standing[k]; st != nil {
			held = &st.Sent
			delete(b.standing, k) // what is left at the end is voided
		}
		d := mm.Decide(held, true, content)
		if !d.Send {
			return nil // DHCS holds it as it is: not sent again
		}
		if d.RecordType != mm.TypeOriginal {
			base.RecordType, base.ParentRecordID = d.RecordType, d.Parent
			if data, err = json.Marshal(r); err != nil {
				return err
			}
		}
	}
	return b.add(ds, data, store.SubmittedRecord{RecordID: base.RecordID, DataSet: ds, KeyHash: keyHash, ContentHash: content, CIN: mm.MemberOf(r),
		RecordType: base.RecordType, ParentID: base.ParentRecordID, Body: body(data)})
}

// recordID is a record's ID: the data set's prefix, the month, the version
// and the identity's key hash.
func (b *builder) recordID(ds, keyHash string) string {
	return fmt.Sprintf("%s%s%03d-%s", prefixes[ds], b.month.Compact(), b.version, keyHash)
}

// voids withdraws, with a Void naming it, each record DHCS holds for the
// month that the state no longer gives: it carries the body DHCS accepted,
// data set by data set in schema order, then by the held record's ID.
func (b *builder) voids(ctx context.Context) error {
	left := make([]*standingRecord, 0, len(b.standing))
	ids := make([]string, 0, len(b.standing))
	for _, st := range b.standing {
		left = append(left, st)
		ids = append(ids, st.RecordID)
	}
	order := func(ds string) int { return slices.Index(schemas.DataSets, ds) }
	slices.SortFunc(left, func(x, y *standingRecord) int {
		return cmp.Or(order(x.dataSet)-order(y.dataSet), strings.Compare(x.RecordID, y.RecordID))
	})
	bodies, err := b.job.Store.SubmittedBodies(ctx, ids)
	if err != nil {
		return err
	}
	for _, st := range left {
		st.Body = bodies[st.RecordID]
		d := mm.Decide(&st.Sent, false, "")
		if !d.Send {
			continue
		}
		id := b.recordID(st.dataSet, st.keyHash)
		head, err := json.Marshal(struct {
			RecordID       string `json:"recordId"`
			RecordType     string `json:"recordType"`
			ParentRecordID string `json:"parentRecordId"`
		}{id, d.RecordType, d.Parent})
		if err != nil {
			return err
		}
		if len(st.Body) == 0 {
			b.unvoidable[st.dataSet]++ // sent before the store kept bodies
			continue
		}
		data := append(append(head[:len(head)-1:len(head)-1], ','), st.Body...)
		b.voided[st.dataSet]++
		if err := b.add(st.dataSet, data, store.SubmittedRecord{RecordID: id, DataSet: st.dataSet, KeyHash: st.keyHash, ContentHash: st.ContentHash,
			CIN: st.CIN, RecordType: d.RecordType, ParentID: d.Parent, Body: st.Body}); err != nil {
			return err
		}
	}
	return nil
}

// add validates a record against its data set's schema, spools it, and
// records it for the month's submissions.
func (b *builder) add(ds string, data []byte, rec store.SubmittedRecord) error {
	sp := b.spools[ds]
	b.checks.check(ds, sp.n, data)
	if sp.n > 0 {
		sp.w.WriteString(",\n")
	}
	sp.w.Write(data)
	sp.n++
	b.total++
	b.res.Counts[ds]++
	return b.yield(rec)
}

// body is a record's JSON from planCode on: its content, the identity
// fields (recordId, recordType, parentRecordId) coming before it.
func body(data []byte) []byte {
	i := strings.Index(string(data), `"planCode":`)
	return data[max(i, 0):]
}

// contentHash hashes a record's content (body).
func contentHash(data []byte) string {
	sum := sha256.Sum256(body(data))
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

func (b *builder) header(plan config.Plan, asOf time.Time, submitted civil.Date) *Header {
	counts := map[string]int{}
	for _, ds := range schemas.DataSets {
		counts[ds] = b.spools[ds].n
	}
	return &Header{PlanParent: plan.Name, PlanCodes: plan.HCPs(), SubmissionDate: submitted.Compact(),
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
		s.WriteString("\nResubmission: records DHCS holds (its latest accepted Original or Resubmission) unchanged are not sent again; changed ones go as Resubmissions naming the held record; records DHCS does not hold (rejected, or new) go as Originals; held records the state no longer gives go as Voids naming the held record, with the content DHCS accepted.\n")
		s.WriteString("Voids:\n")
		if len(b.voided) == 0 {
			s.WriteString("  none\n")
		}
		for _, ds := range schemas.DataSets {
			if n := b.voided[ds]; n > 0 {
				fmt.Fprintf(&s, "  %-22s %d\n", ds, n)
			}
		}
		for _, ds := range schemas.DataSets {
			if n := b.unvoidable[ds]; n > 0 {
				fmt.Fprintf(&s, "  %s: %d record(s) DHCS holds are gone from the state but were sent before the gateway kept what it sent: void them by hand\n", ds, n)
			}
		}
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
