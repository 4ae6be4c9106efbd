package adt

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// NoticeStore is what the notice job needs of the state store.
type NoticeStore interface {
	PendingADTNotices(ctx context.Context, limit int) ([]store.ADTEventRecord, error)
	RecordADTNotices(ctx context.Context, handled []int64, notices []store.ADTNotice) error
	Authorizations(ctx context.Context, cin string) ([]domain.Authorization, error)
}

// NoticeHeader is the header of a provider's notice file (docs/adt.md).
var NoticeHeader = []string{"member_cin", "event", "trigger", "event_time", "facility", "patient_class", "visit_number",
	"admit_time", "discharge_time", "discharge_disposition", "diagnoses", "sender", "message_control_id",
	"received_at", "notice_written_at", "late"}

// NoticeFile is one provider's notice file.
type NoticeFile struct {
	ProviderNPI string
	Path        string
	Notices     int
	Late        int
}

// NoticeResult is what a notice run did.
type NoticeResult struct {
	Events  int // events handled
	Notices int
	Late    int // notices written 24 hours or more after their event was received
	Files   []NoticeFile
	// LateEvents are the IDs of the late notices' events (the day's summary
	// lists them).
	LateEvents []int64
}

// AuthorizationReader reads a member's authorizations.
type AuthorizationReader interface {
	Authorizations(ctx context.Context, cin string) ([]domain.Authorization, error)
}

// ManyAuthorizationsReader reads many members' authorizations at once
// (both stores): those of each CIN that has any, by CIN, in the order
// Authorizations gives them.
type ManyAuthorizationsReader interface {
	AuthorizationsOf(ctx context.Context, cins []string) (map[string][]domain.Authorization, error)
}

// authorizationsOf returns a function reading a member's authorizations:
// from one read of those of every CIN of cins when st reads many at once,
// else from st member by member.
func authorizationsOf(ctx context.Context, st AuthorizationReader, cins []string) (func(cin string) ([]domain.Authorization, error), error) {
	many, ok := st.(ManyAuthorizationsReader)
	if !ok || len(cins) == 0 {
		return func(cin string) ([]domain.Authorization, error) { return st.Authorizations(ctx, cin) }, nil
	}
	all, err := many.AuthorizationsOf(ctx, cins)
	if err != nil {
		return nil, err
	}
	return func(cin string) ([]domain.Authorization, error) { return all[cin], nil }, nil
}

// NoticeBatch is the notices of a set of pending events, decided as of one
// time (Written).
type NoticeBatch struct {
	Written time.Time
	Handled []int64 // every event of the batch, with or without a notice
	Notices []store.ADTNotice
	// LateEvents are the IDs of the late notices' events.
	LateEvents []int64
	// Tag, when set, ends each file's name (adt-notices-NPI-TIME-TAG.csv):
	// the daemon's ledger entry, so that no two runs name a file alike.
	Tag string
	// Seq, when Tag is not set, is the first number tried to end each
	// file's name (adt-notices-NPI-TIME-N.csv, N from Seq up to the first
	// name not taken in the directory); WriteFiles leaves it one past the
	// highest number it used, for the next batch of the same run.
	Seq  int
	loc  *time.Location
	rows map[string][][]string
}

// BuildNotices decides the notices of pending events as of written:
// for an event of a notified kind not cancelled, one to each provider of
// an approved ECM authorization in force on the event's date in loc
// (rules.ADTNoticeProviders; an authorization without an end date runs the
// period data gives its type); for a cancel (rules.ADTCancelKinds), one to
// each provider notified of the event it cancelled
// (store.ADTEventRecord.CancelledNotified), none when that event was never
// notified. A notice is late when written is 24 hours or more after the
// event was received (rules.IsADTNoticeLate).
//
// An event cancelled before the job handles it gets no notice, so a
// cancel handled in the same batch as the event it cancelled gets none
// either, as it would in a later batch.
func BuildNotices(ctx context.Context, st AuthorizationReader, data *rules.EligibilityTables, pending []store.ADTEventRecord, loc *time.Location, written time.Time) (*NoticeBatch, error) {
	if loc == nil {
		loc = time.UTC
	}
	b := &NoticeBatch{Written: written, loc: loc, rows: map[string][][]string{}, Handled: make([]int64, 0, len(pending))}
	notified := func(ev *store.ADTEventRecord) bool {
		return !ev.Cancelled && slices.Contains(rules.ADTNoticeKinds, ev.Kind)
	}
	// byAuthorization: an event notified to the providers authorized on
	// its date; a cancel goes to those notified of the event it cancelled.
	byAuthorization := func(ev *store.ADTEventRecord) bool {
		return notified(ev) && !slices.Contains(rules.ADTCancelKinds, ev.Kind)
	}
	var cins []string
	for i := range pending {
		if byAuthorization(&pending[i]) {
			cins = append(cins, pending[i].CIN)
		}
	}
	authsOf, err := authorizationsOf(ctx, st, cins)
	if err != nil {
		return nil, err
	}
	for i := range pending {
		ev := &pending[i]
		b.Handled = append(b.Handled, ev.ID)
		if !notified(ev) {
			continue
		}
		npis := ev.CancelledNotified
		if byAuthorization(ev) {
			auths, err := authsOf(ev.CIN)
			if err != nil {
				return nil, err
			}
			npis = rules.ADTNoticeProviders(auths, civil.FromTime(ev.EventTime.In(loc)), data)
		}
		for _, npi := range npis {
			late := rules.IsADTNoticeLate(ev.ReceivedAt, written)
			b.rows[npi] = append(b.rows[npi], noticeRow(ev, loc, written, late))
			b.Notices = append(b.Notices, store.ADTNotice{EventID: ev.ID, ProviderNPI: npi, ReceivedAt: ev.ReceivedAt, WrittenAt: written, Late: late})
			if late {
				b.LateEvents = append(b.LateEvents, ev.ID)
			}
		}
	}
	return b, nil
}

// NoticeFileName is the name of a provider's notice file written at
// written (in loc).
func NoticeFileName(npi string, written time.Time, loc *time.Location) string {
	return fmt.Sprintf("adt-notices-%s-%s.csv", npi, written.In(loc).Format("20060102150405"))
}

// WriteFiles writes one CSV file per provider into outDir, each
// atomically and never over an existing file, and names each notice's
// file. Files are in NPI order. With Tag set a taken name is an error;
// without, the file takes the next free sequence number (Seq).
func (b *NoticeBatch) WriteFiles(outDir string) ([]NoticeFile, error) {
	npis := make([]string, 0, len(b.rows))
	for npi := range b.rows {
		npis = append(npis, npi)
	}
	sort.Strings(npis)
	if b.Seq < 1 {
		b.Seq = 1
	}
	var files []NoticeFile
	names := map[string]string{}
	next := b.Seq
	for _, npi := range npis {
		base := strings.TrimSuffix(NoticeFileName(npi, b.Written, b.loc), ".csv")
		seq := b.Seq
		name := func() string {
			if b.Tag != "" {
				return base + "-" + b.Tag + ".csv"
			}
			return base + "-" + strconv.Itoa(seq) + ".csv"
		}
		path, err := writeNoticeFile(outDir, b.rows[npi], func(taken bool) (string, bool) {
			if taken {
				if b.Tag != "" || seq-b.Seq >= maxNoticeSeqTries {
					return "", false
				}
				seq++
			}
			return filepath.Join(outDir, name()), true
		})
		if err != nil {
			return nil, err
		}
		next = max(next, seq+1)
		names[npi] = filepath.Base(path)
		late := 0
		for _, r := range b.rows[npi] {
			if r[len(r)-1] == "Y" {
				late++
			}
		}
		files = append(files, NoticeFile{ProviderNPI: npi, Path: path, Notices: len(b.rows[npi]), Late: late})
	}
	b.Seq = next
	for i := range b.Notices {
		b.Notices[i].File = names[b.Notices[i].ProviderNPI]
	}
	return files, nil
}

// maxNoticeSeqTries bounds the sequence numbers tried for one file.
const maxNoticeSeqTries = 10000

// WriteNotices writes a notice for every pending event of a member with an
// approved ECM authorization in force on the event's date (in loc) to each
// provider holding one, and for every pending cancel to each provider
// notified of the event it cancelled (BuildNotices with data), one CSV file per provider in outDir
// (adt-notices-NPI-YYYYMMDDHHMMSS-N.csv, N the batch's sequence number
// from 1, or the next one free: no file is ever replaced), then records
// the notices and marks the events handled, 5,000 events a batch. A crash
// between the two writes the same notices again: a provider may get a
// notice twice, never none.
func WriteNotices(ctx context.Context, st NoticeStore, outDir string, data *rules.EligibilityTables, loc *time.Location, now func() time.Time) (NoticeResult, error) {
	var res NoticeResult
	if now == nil {
		now = time.Now
	}
	seq := 1
	for {
		pending, err := st.PendingADTNotices(ctx, 5000)
		if err != nil {
			return res, err
		}
		if len(pending) == 0 {
			return res, nil
		}
		b, err := BuildNotices(ctx, st, data, pending, loc, now())
		if err != nil {
			return res, err
		}
		b.Seq = seq
		files, err := b.WriteFiles(outDir)
		if err != nil {
			return res, err
		}
		seq = b.Seq
		if err := st.RecordADTNotices(ctx, b.Handled, b.Notices); err != nil {
			return res, err
		}
		res.Files = append(res.Files, files...)
		res.Events += len(b.Handled)
		res.Notices += len(b.Notices)
		res.Late += len(b.LateEvents)
		res.LateEvents = append(res.LateEvents, b.LateEvents...)
	}
}

func noticeRow(ev *store.ADTEventRecord, loc *time.Location, written time.Time, late bool) []string {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	var diags []string
	for _, d := range ev.Diagnoses {
		diags = append(diags, d.Code)
	}
	l := "N"
	if late {
		l = "Y"
	}
	return []string{ev.CIN, string(ev.Kind), ev.Trigger, ts(ev.EventTime), ev.Facility, ev.PatientClass, ev.VisitNumber,
		ts(ev.AdmitTime), ts(ev.DischargeTime), ev.Disposition, strings.Join(diags, ";"), ev.Sender, ev.ControlID,
		ts(ev.ReceivedAt), ts(written), l}
}

// writeNoticeFile writes rows to a temporary file in dir and commits it,
// never over an existing file, under the path name(false) gives, or while
// that is taken the path name(true) gives next; name's false ends the
// tries. It returns the path committed.
func writeNoticeFile(dir string, rows [][]string, name func(taken bool) (string, bool)) (string, error) {
	path, _ := name(false)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("adt notices: %w", err)
	}
	f, err := atomicfile.Create(path, ".calgw-adt-")
	if err != nil {
		return "", fmt.Errorf("adt notices: %w", err)
	}
	w := csv.NewWriter(f)
	w.Write(NoticeHeader)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Abort()
		return "", fmt.Errorf("adt notices %s: %w", path, err)
	}
	for {
		err := f.CommitNewAs(path)
		if err == nil {
			return path, nil
		}
		next, ok := name(true)
		if !errors.Is(err, fs.ErrExist) || !ok {
			f.Abort()
			return "", fmt.Errorf("adt notices: %w", err)
		}
		path = next
	}
}
