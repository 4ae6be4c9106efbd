package daemon

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	pipeadt "github.com/calaim-gateway/calaim-gateway/pipelines/adt"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// RoleNotices is the adt-notices job's notice files, one per ECM provider:
// to the provider's own destination (adt.notice_destinations), else to
// this role's.
const RoleNotices = "notices"

const adtNoticesKind = "adt-notices"

// noticeJobLimit bounds the events one interval's run handles; more wait
// for the next interval.
const noticeJobLimit = 100000

// adtNoticeStore is what the adt-notices job needs of the state store.
type adtNoticeStore interface {
	pipeadt.NoticeStore
	RecordADTNoticesRun(ctx context.Context, run store.Run, handled []int64, notices []store.ADTNotice) error
	ADTNotices(ctx context.Context, since time.Time) ([]store.ADTNotice, error)
	ADTNoticesDelivered(ctx context.Context, files []string, at time.Time, within time.Duration) ([]store.ADTNotice, error)
	ADTNoticeRunFiles(ctx context.Context, run int64) ([]string, error)
	UndoADTNoticesRun(ctx context.Context, run int64) (int64, error)
}

// noticeAgeBuckets span a notice delivered within minutes to one days late.
var noticeAgeBuckets = []float64{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800, 259200, 604800}

// The ADT notices to ECM providers (scheduled job kind "adt-notices",
// every: an interval). Each interval's run writes the notices of the
// events waiting for one (pipelines/adt.BuildNotices, as `calgw notices`),
// one file per provider, into the work directory, then records the
// notices and marks the events handled in a run of job.Store, whose commit
// also commits the ledger entry: from then on the files are delivered by
// the ledger, each to its provider's destination, whatever crashes in
// between, and no later run writes those events again. Once every file is
// delivered, its notices get their delivery time, and those delivered 24
// hours or more after their event was received become late
// (rules.ADTNoticeLate). The day's summary (the entry of a day, made at
// the job's at: time of the next day) lists the notices that were late
// that day, without member data.
type adtNoticeJob struct {
	st    adtNoticeStore
	data  *rules.EligibilityTables // the rule set's (authorization periods)
	loc   *time.Location
	dests map[string]string // provider NPI → destination
	// age observes each notice's age at delivery (nil: not observed).
	age prometheus.Histogram
}

func newADTNoticeJob(env Env) (Processor, error) {
	st, err := storeFor[adtNoticeStore](env, adtNoticesKind)
	if err != nil {
		return nil, err
	}
	for npi, dst := range env.Config.ADT.NoticeDestinations {
		if _, ok := env.Config.Destinations[dst]; !ok {
			return nil, fmt.Errorf("adt.notice_destinations.%s: destination %q is not in destinations", npi, dst)
		}
	}
	if env.Rules == nil {
		return nil, fmt.Errorf("%s: no rule set", adtNoticesKind)
	}
	p := &adtNoticeJob{st: st, data: env.Rules.Data, loc: env.Config.Location(), dests: env.Config.ADT.NoticeDestinations}
	if env.Metrics != nil {
		p.age = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "calgw_adt_notice_age_seconds",
			Help:    "Age of each ADT notice delivered by this instance: from its event's message received to its file delivered.",
			Buckets: noticeAgeBuckets})
		if err := env.Metrics.Register(p.age); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *adtNoticeJob) Process(ctx context.Context, job *Job) (*Result, error) {
	if day, err := time.ParseInLocation(dayPeriod, job.Period, p.loc); err == nil {
		return p.daySummary(ctx, job, day)
	}
	if _, err := time.ParseInLocation(intervalPeriod, job.Period, p.loc); err != nil {
		return nil, unusable("scheduled ADT notices: period %q is neither an interval nor a day", job.Period)
	}
	rec, ok := job.Store.(interface {
		RecordADTNoticesRun(ctx context.Context, run store.Run, handled []int64, notices []store.ADTNotice) error
	})
	if !ok {
		return nil, fmt.Errorf("adt-notices: the %T state store cannot record notices in a run", job.Store)
	}
	// Another instance's run may handle some of the events first (two
	// intervals at once): the refused attempt leaves nothing, and the next
	// reads what is still waiting.
	var err error
	for range noticeJobAttempts {
		var res *Result
		if res, err = p.runInterval(ctx, job, rec); !errors.Is(err, store.ErrADTNoticed) {
			return res, err
		}
		if job.Log != nil {
			job.Log.Warn("ADT events handled by another notice run meanwhile; trying again with those still waiting")
		}
	}
	return nil, err
}

// noticeJobAttempts bounds the attempts of one interval's run against
// runs of other instances.
const noticeJobAttempts = 3

func (p *adtNoticeJob) runInterval(ctx context.Context, job *Job, rec interface {
	RecordADTNoticesRun(ctx context.Context, run store.Run, handled []int64, notices []store.ADTNotice) error
}) (*Result, error) {
	pending, err := p.st.PendingADTNotices(ctx, noticeJobLimit)
	if err != nil {
		return nil, err
	}
	if len(pending) == 0 {
		return &Result{Note: "ADT notices: no event waiting"}, nil
	}
	b, err := pipeadt.BuildNotices(ctx, p.st, p.data, pending, p.loc, time.Now())
	if err != nil {
		return nil, err
	}
	if job.File != nil {
		b.Tag = strconv.FormatInt(job.File.ID, 10)
	}
	files, err := b.WriteFiles(job.OutDir)
	if err != nil {
		return nil, err
	}
	discard := func() {
		for _, f := range files {
			os.Remove(f.Path)
		}
	}
	run, err := job.Store.BeginRun(ctx, adtNoticesKind, job.Period)
	if err != nil {
		discard()
		return nil, err
	}
	if err := rec.RecordADTNoticesRun(ctx, run, b.Handled, b.Notices); err != nil {
		run.Abandon(context.WithoutCancel(ctx), "recording ADT notices failed")
		discard()
		return nil, fmt.Errorf("adt-notices: %w", err)
	}
	if err := run.Written(ctx, "", ""); err != nil {
		return nil, err
	}
	res := p.outputs(files)
	res.Note = fmt.Sprintf("ADT notices: %d event(s) handled, %d notice(s) to %d provider(s), %d late when written",
		len(b.Handled), len(b.Notices), len(files), len(b.LateEvents))
	return res, nil
}

// Resume collects the notice files of a run that committed before the
// daemon recorded them. When a file the run recorded notices in is not in
// the work directory (the instance that wrote it died and its work
// directory is not on this one, or it was cleared), the run is undone:
// its notices are deleted and their events wait again, and the entry is
// processed again (ErrRunUndone), so no notice is recorded in a file never
// delivered.
func (p *adtNoticeJob) Resume(ctx context.Context, job *Job) (*Result, error) {
	if job.File != nil && job.File.RunID != 0 {
		recorded, err := p.st.ADTNoticeRunFiles(ctx, job.File.RunID)
		if err != nil {
			return nil, err
		}
		missing := 0
		for _, name := range recorded {
			if _, err := os.Stat(filepath.Join(job.OutDir, name)); errors.Is(err, fs.ErrNotExist) {
				missing++
			} else if err != nil {
				return nil, fmt.Errorf("adt-notices: %w", err)
			}
		}
		if missing > 0 {
			n, err := p.st.UndoADTNoticesRun(ctx, job.File.RunID)
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %d of the %d notice file(s) of %s are not in the work directory; its %d notice(s) wait for a notice again",
				ErrRunUndone, missing, len(recorded), job.Name, n)
		}
	}
	paths, err := filepath.Glob(filepath.Join(job.OutDir, "adt-notices-*.csv"))
	if err != nil {
		return nil, err
	}
	var files []pipeadt.NoticeFile
	for _, path := range paths {
		parts := strings.Split(strings.TrimSuffix(filepath.Base(path), ".csv"), "-")
		if len(parts) < 4 || parts[2] == "late" {
			continue
		}
		files = append(files, pipeadt.NoticeFile{ProviderNPI: parts[2], Path: path})
	}
	res := p.outputs(files)
	res.Note = fmt.Sprintf("ADT notices: %d provider file(s), resumed after a crash", len(files))
	return res, nil
}

func (p *adtNoticeJob) outputs(files []pipeadt.NoticeFile) *Result {
	res := &Result{}
	for _, f := range files {
		res.Outputs = append(res.Outputs, Output{Role: RoleNotices, Path: f.Path, Name: filepath.Base(f.Path), Destination: p.dests[f.ProviderNPI]})
	}
	return res
}

// Delivered records the delivery time of the entry's notice files.
func (p *adtNoticeJob) Delivered(ctx context.Context, e *store.FileEntry, at time.Time) error {
	var files []string
	for _, o := range e.Outputs {
		if o.Role == RoleNotices {
			files = append(files, o.Name)
		}
	}
	if len(files) == 0 {
		return nil
	}
	marked, err := p.st.ADTNoticesDelivered(ctx, files, at, rules.ADTNoticeWithin)
	if err != nil {
		return err
	}
	if p.age != nil {
		for _, n := range marked {
			p.age.Observe(max(n.DeliveredAt.Sub(n.ReceivedAt).Seconds(), 0))
		}
	}
	return nil
}

// DaySummaryHeader is the header of the day's late-notice summary.
var DaySummaryHeader = []string{"event_id", "provider_npi", "received_at", "notice_written_at", "delivered_at", "age_hours", "file"}

// daySummary writes adt-notices-late-YYYYMMDD.csv: the notices late
// during day, by event ID, provider, times and file; no member data. A
// notice is late that day when it was delivered that day late, or written
// that day late and not delivered yet, or written by the daemon and still
// not delivered at the day's end, 24 hours (rules.ADTNoticeWithin) or more
// after its event was received (listed each day it stays so). A day
// without a late notice gets a file with the header only.
func (p *adtNoticeJob) daySummary(ctx context.Context, job *Job, day time.Time) (*Result, error) {
	end := day.AddDate(0, 0, 1)
	all, err := p.st.ADTNotices(ctx, day.AddDate(0, 0, -7))
	if err != nil {
		return nil, err
	}
	in := func(t time.Time) bool { return !t.IsZero() && !t.Before(day) && t.Before(end) }
	// overdue: recorded by the daemon, written before the day's end and
	// not delivered by then, 24 hours old or older at the day's end (as
	// CountADTNotices counts it late at that instant).
	overdue := func(n *store.ADTNotice) bool {
		return n.RunID != 0 && n.WrittenAt.Before(end) && (n.DeliveredAt.IsZero() || !n.DeliveredAt.Before(end)) &&
			!n.ReceivedAt.Add(rules.ADTNoticeWithin).After(end)
	}
	var late []store.ADTNotice
	for i := range all {
		n := &all[i]
		if n.Late && (in(n.DeliveredAt) || (n.DeliveredAt.IsZero() && in(n.WrittenAt))) || overdue(n) {
			late = append(late, *n)
		}
	}
	sort.Slice(late, func(i, j int) bool {
		if late[i].EventID != late[j].EventID {
			return late[i].EventID < late[j].EventID
		}
		return late[i].ProviderNPI < late[j].ProviderNPI
	})
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(p.loc).Format(time.RFC3339)
	}
	name := "adt-notices-late-" + day.Format("20060102") + ".csv"
	path := filepath.Join(job.OutDir, name)
	f, err := atomicfile.Create(path, ".calgw-adt-")
	if err != nil {
		return nil, err
	}
	w := csv.NewWriter(f)
	w.Write(DaySummaryHeader)
	for i := range late {
		n := &late[i]
		// The age when delivered that day, else at the day's end when
		// still undelivered by the daemon then, else when written.
		sent := n.WrittenAt
		switch {
		case in(n.DeliveredAt):
			sent = n.DeliveredAt
		case overdue(n):
			sent = end
		}
		w.Write([]string{strconv.FormatInt(n.EventID, 10), n.ProviderNPI, ts(n.ReceivedAt), ts(n.WrittenAt), ts(n.DeliveredAt),
			strconv.FormatFloat(sent.Sub(n.ReceivedAt).Hours(), 'f', 1, 64), n.File})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Abort()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := f.Commit(); err != nil {
		return nil, err
	}
	return &Result{
		Outputs: []Output{{Role: RoleSummary, Path: path, Name: name}},
		Note:    fmt.Sprintf("ADT notices of %s: %d late", day.Format(dayPeriod), len(late)),
	}, nil
}
