package monthly

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/schemas"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// KindDHCSResponse names DHCS's response to a monthly file for `calgw
// ingest --kind`.
const KindDHCSResponse = "dhcs-response"

// response is DHCS's response file (schemas/response.schema.json).
type response struct {
	FileName          string `json:"fileName"`
	ValidationStatus  string `json:"validationStatus"`
	ResponseHierarchy []node `json:"responseHierarchy"`
}

type node struct {
	LevelIdentifier   string    `json:"levelIdentifier"`
	SectionIdentifier string    `json:"sectionIdentifier"`
	Responses         []message `json:"responses"`
	Children          []node    `json:"children"`
}

type message struct {
	ItemReference *string `json:"itemReference"`
	ID            string  `json:"id"`
	Description   string  `json:"description"`
	Severity      string  `json:"severity"`
}

func (m message) String() string {
	s := m.ID + " " + m.Severity + ": " + m.Description
	if m.ItemReference != nil && *m.ItemReference != "" {
		s = *m.ItemReference + ": " + s
	}
	return s
}

func (m message) isError() bool { return strings.EqualFold(m.Severity, "error") }

var fileNameRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9-]+_` + Kind + `_([0-9]{4})([0-9]{2})[0-9]{2}_([0-9]{5})\.json$`)
})

// IngestResponse reads DHCS responses to monthly files: each record of the
// file the response names takes the status it gives (Rejected when a
// response of severity Error names it, or when DHCS rejected the whole file
// naming no record; Accepted otherwise), and a report of what to fix, per
// data set and member, is written beside the input (or into job.OutDir).
// The next `calgw report monthly` for that month is a Resubmission.
func IngestResponse(ctx context.Context, job ingest.Job) []ingest.Result {
	var out []ingest.Result
	for _, path := range job.Files {
		start := time.Now()
		st, ok := job.Store.(Store)
		if !ok {
			out = append(out, ingest.Result{File: path, Kind: KindDHCSResponse, Err: fmt.Errorf("the %T state store keeps no monthly submissions", job.Store)})
			continue
		}
		set, err := schemas.Load(job.Config.SchemasDir)
		if err != nil {
			out = append(out, ingest.Result{File: path, Kind: KindDHCSResponse, Err: err})
			break
		}
		r := LoadResponse(ctx, st, set, path, job.OutDir, job.Log)
		r.Took = time.Since(start)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

// LoadResponse loads one response (see IngestResponse).
func LoadResponse(ctx context.Context, st Store, set *schemas.Set, path, outDir string, log *slog.Logger) ingest.Result {
	res := ingest.Result{File: path, Kind: KindDHCSResponse}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	unusable := func(format string, a ...any) ingest.Result {
		res.Err = fmt.Errorf("%w: %s: %s", ingest.ErrUnusable, path, fmt.Sprintf(format, a...))
		return res
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return unusable("%v", err)
	}
	doc, err := schemas.Decode(data)
	if err != nil {
		return unusable("not JSON: %v", err)
	}
	if vs := set.ValidateResponse(doc); len(vs) > 0 {
		var s []string
		for _, v := range vs {
			s = append(s, v.String())
		}
		return unusable("not a DHCS response (%s): %s", set.Origin[schemas.ResponseFile], strings.Join(s, "; "))
	}
	var r response
	if err := json.Unmarshal(data, &r); err != nil {
		return unusable("%v", err)
	}
	m := fileNameRE().FindStringSubmatch(r.FileName)
	if m == nil {
		return unusable("fileName %q is not a monthly monitoring file's name (<PLAN>_%s_<YYYYMMDD>_<NNNNN>.json)", r.FileName, Kind)
	}
	month := m[1] + "-" + m[2]
	version, _ := strconv.Atoi(m[3])
	all, err := st.SubmittedRecords(ctx, month)
	if err != nil {
		res.Err = err
		return res
	}
	sent := map[string]*store.SubmittedRecord{}
	var recs []*store.SubmittedRecord
	for i := range all {
		if all[i].Version == version {
			sent[all[i].RecordID] = &all[i]
			recs = append(recs, &all[i])
		}
	}
	if len(recs) == 0 {
		return unusable("no file %s was built by this gateway (calgw report monthly --month %s)", r.FileName, month)
	}
	// Walk the hierarchy: a node naming a record sent carries its verdict;
	// messages elsewhere concern the file.
	byRecord := map[string][]message{}
	var fileMsgs []message
	unknown := 0
	var walk func(n node, parentRecord string)
	walk = func(n node, parentRecord string) {
		rec := parentRecord
		if _, ok := sent[n.SectionIdentifier]; ok {
			rec = n.SectionIdentifier
			byRecord[rec] = append(byRecord[rec], n.Responses...)
		} else if rec != "" {
			byRecord[rec] = append(byRecord[rec], n.Responses...)
		} else {
			if strings.EqualFold(n.LevelIdentifier, "record") {
				unknown++
			}
			fileMsgs = append(fileMsgs, n.Responses...)
		}
		for _, c := range n.Children {
			walk(c, rec)
		}
	}
	for _, n := range r.ResponseHierarchy {
		walk(n, "")
	}
	wholeFile := strings.EqualFold(r.ValidationStatus, "Rejected") && !slices.ContainsFunc(slices.Collect(mapValues(byRecord)), func(ms []message) bool {
		return slices.ContainsFunc(ms, message.isError)
	})
	rejected := 0
	for _, rec := range recs {
		ms := byRecord[rec.RecordID]
		rec.Status = store.RecordAccepted
		if wholeFile || slices.ContainsFunc(ms, message.isError) {
			rec.Status = store.RecordRejected
			rejected++
		}
		var lines []string
		for _, x := range ms {
			lines = append(lines, x.String())
		}
		if wholeFile {
			for _, x := range fileMsgs {
				lines = append(lines, "file: "+x.String())
			}
		}
		rec.Responses = strings.Join(lines, "\n")
	}
	update := make([]store.SubmittedRecord, len(recs))
	for i, r := range recs {
		update[i] = *r
	}
	dir := outDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		res.Err = fmt.Errorf("monthly response: %w", err)
		return res
	}
	n, err := st.SetRecordStatuses(ctx, update)
	if err != nil {
		res.Err = err
		return res
	}
	res.Committed = true
	res.Read, res.Loaded, res.Rejected, res.Warnings = len(recs), n, rejected, unknown
	res.Report = filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))+".fix.txt")
	if err := atomicfile.WriteFile(res.Report, fixReport(&r, month, version, recs, fileMsgs, rejected, unknown, wholeFile)); err != nil {
		res.Err = err
		return res
	}
	log.Info("DHCS monitoring response loaded", "file", filepath.Base(path), "records", len(recs), "rejected", rejected, "unknown", unknown)
	return res
}

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// fixReport is the readable account of a response: the file's messages,
// then the rejected records per data set and member, and what happens next.
func fixReport(r *response, month string, version int, recs []*store.SubmittedRecord, fileMsgs []message, rejected, unknown int, wholeFile bool) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "DHCS response to %s: %s\n", r.FileName, r.ValidationStatus)
	fmt.Fprintf(&b, "%d record(s) sent, %d accepted, %d rejected", len(recs), len(recs)-rejected, rejected)
	if unknown > 0 {
		fmt.Fprintf(&b, "; %d record(s) named by the response were not in the file", unknown)
	}
	b.WriteString("\n")
	if len(fileMsgs) > 0 {
		b.WriteString("\nAbout the file:\n")
		for _, m := range fileMsgs {
			fmt.Fprintf(&b, "  %s\n", m)
		}
		if wholeFile {
			b.WriteString("  DHCS rejected the whole file without naming a record: every record is rejected.\n")
		}
	}
	var bad []*store.SubmittedRecord
	for _, rec := range recs {
		if rec.Status == store.RecordRejected {
			bad = append(bad, rec)
		}
	}
	order := func(ds string) int { return slices.Index(schemas.DataSets, ds) }
	slices.SortFunc(bad, func(a, c *store.SubmittedRecord) int {
		return cmp.Or(order(a.DataSet)-order(c.DataSet), strings.Compare(a.CIN, c.CIN), strings.Compare(a.RecordID, c.RecordID))
	})
	ds := ""
	for _, rec := range bad {
		if rec.DataSet != ds {
			ds = rec.DataSet
			fmt.Fprintf(&b, "\n%s: what to fix\n", ds)
		}
		who := "record " + rec.RecordID
		if rec.CIN != "" {
			who = "member " + rec.CIN + ", " + who
		}
		fmt.Fprintf(&b, "  %s\n", who)
		for _, l := range strings.Split(rec.Responses, "\n") {
			if l != "" {
				fmt.Fprintf(&b, "    %s\n", l)
			}
		}
	}
	if rejected > 0 {
		fmt.Fprintf(&b, "\nNext: correct the data behind these records (the feeds, the roster, the invoices), then `calgw report monthly --month %s` writes version %05d, a Resubmission: the rejected records again as Originals (or, for a rejected Resubmission or Void, again naming the record DHCS still holds), accepted records that changed as Resubmissions naming the accepted one, accepted records the state no longer gives as Voids naming it, accepted unchanged records not at all.\n", month, version+1)
	}
	return []byte(b.String())
}
