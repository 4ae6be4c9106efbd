package adt

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
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

// WriteNotices writes a notice for every pending event of a member with an
// approved ECM authorization in force on the event's date (in loc) to each
// provider holding one (rules.ADTNoticeProvider), one CSV file per
// provider in outDir (adt-notices-NPI-YYYYMMDDHHMMSS.csv), then records the
// notices and marks the events handled. A crash between the two writes
// the same notices again: a provider may get a notice twice, never none.
func WriteNotices(ctx context.Context, st NoticeStore, outDir string, loc *time.Location, now func() time.Time) (NoticeResult, error) {
	var res NoticeResult
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = time.UTC
	}
	for {
		pending, err := st.PendingADTNotices(ctx, 5000)
		if err != nil {
			return res, err
		}
		if len(pending) == 0 {
			return res, nil
		}
		written := now()
		rows := map[string][][]string{}
		var notices []store.ADTNotice
		handled := make([]int64, 0, len(pending))
		for i := range pending {
			ev := &pending[i]
			handled = append(handled, ev.ID)
			if ev.Cancelled || !slices.Contains(rules.ADTNoticeKinds, ev.Kind) {
				continue
			}
			auths, err := st.Authorizations(ctx, ev.CIN)
			if err != nil {
				return res, err
			}
			for _, npi := range rules.ADTNoticeProviders(auths, civil.FromTime(ev.EventTime.In(loc))) {
				late := rules.IsADTNoticeLate(ev.ReceivedAt, written)
				rows[npi] = append(rows[npi], noticeRow(ev, loc, written, late))
				notices = append(notices, store.ADTNotice{EventID: ev.ID, ProviderNPI: npi, ReceivedAt: ev.ReceivedAt, WrittenAt: written, Late: late})
				if late {
					res.Late++
					res.LateEvents = append(res.LateEvents, ev.ID)
				}
			}
		}
		npis := make([]string, 0, len(rows))
		for npi := range rows {
			npis = append(npis, npi)
		}
		sort.Strings(npis)
		files := map[string]string{}
		for _, npi := range npis {
			path := filepath.Join(outDir, fmt.Sprintf("adt-notices-%s-%s.csv", npi, written.In(loc).Format("20060102150405")))
			if err := writeNoticeFile(path, rows[npi]); err != nil {
				return res, err
			}
			files[npi] = path
			late := 0
			for _, r := range rows[npi] {
				if r[len(r)-1] == "Y" {
					late++
				}
			}
			res.Files = append(res.Files, NoticeFile{ProviderNPI: npi, Path: path, Notices: len(rows[npi]), Late: late})
		}
		for i := range notices {
			notices[i].File = filepath.Base(files[notices[i].ProviderNPI])
		}
		if err := st.RecordADTNotices(ctx, handled, notices); err != nil {
			return res, err
		}
		res.Events += len(handled)
		res.Notices += len(notices)
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

func writeNoticeFile(path string, rows [][]string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("adt notices: %w", err)
	}
	f, err := atomicfile.Create(path, ".calgw-adt-")
	if err != nil {
		return fmt.Errorf("adt notices: %w", err)
	}
	w := csv.NewWriter(f)
	w.Write(NoticeHeader)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		f.Abort()
		return fmt.Errorf("adt notices %s: %w", path, err)
	}
	return f.Commit()
}
