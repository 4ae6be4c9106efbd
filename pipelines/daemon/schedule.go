package daemon

import (
	"context"
	"fmt"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// schedule registers each scheduled job once per month, from its day and
// time on (in the configured time zone). The ledger makes it once across
// restarts and instances; a month the daemon was down for entirely is not
// made up.
func (d *Daemon) schedule(ctx context.Context, now time.Time) {
	loc := d.cfg.Location()
	local := now.In(loc)
	for _, j := range d.jobs {
		at, err := time.ParseInLocation("15:04", j.At, loc)
		if err != nil {
			continue // refused by the configuration check
		}
		if j.Every > 0 {
			d.scheduleInterval(ctx, j, now, at)
			continue
		}
		due := time.Date(local.Year(), local.Month(), j.DayOfMonth, at.Hour(), at.Minute(), 0, 0, loc)
		if local.Before(due) {
			continue
		}
		period := local.Format("2006-01")
		id, added, err := d.st.RegisterFile(ctx, store.FileNotice{
			Source: scheduleSource, Path: j.Name + "/" + period, Name: fmt.Sprintf("%s-%s", j.Name, period),
			Kind: j.Kind, ModTime: due, Once: true,
		})
		if err != nil {
			d.metrics.error("schedule")
			d.log.Error("registering a scheduled job", "job", j.Name, "err", err)
			continue
		}
		if added {
			d.log.Info("scheduled job due", "job", j.Name, "kind", j.Kind, "period", period, "file_id", id)
		}
	}
}

// Periods of interval jobs: an interval's start ("20261205T0715", in the
// configured time zone), or a day ("2026-12-04") for the day's summary.
const (
	intervalPeriod = "20060102T1504"
	dayPeriod      = "2006-01-02"
)

// scheduleInterval registers an interval job's entry for the interval now
// falls in (intervals counted from midnight UTC), once. For adt-notices it
// also registers, from the job's time of day on, the entry of the day
// before's summary. An interval the daemon was down for is not made up:
// the next one does its work.
func (d *Daemon) scheduleInterval(ctx context.Context, j config.ScheduledJob, now, at time.Time) {
	loc := d.cfg.Location()
	slot := now.Truncate(j.Every)
	entries := []struct {
		period string
		due    time.Time
	}{{slot.In(loc).Format(intervalPeriod), slot}}
	local := now.In(loc)
	summaryAt := time.Date(local.Year(), local.Month(), local.Day(), at.Hour(), at.Minute(), 0, 0, loc)
	if j.Kind == adtNoticesKind && !local.Before(summaryAt) {
		day := time.Date(local.Year(), local.Month(), local.Day()-1, 0, 0, 0, 0, loc)
		entries = append(entries, struct {
			period string
			due    time.Time
		}{day.Format(dayPeriod), summaryAt})
	}
	for _, en := range entries {
		id, added, err := d.st.RegisterFile(ctx, store.FileNotice{
			Source: scheduleSource, Path: j.Name + "/" + en.period, Name: fmt.Sprintf("%s-%s", j.Name, en.period),
			Kind: j.Kind, ModTime: en.due, Once: true,
		})
		if err != nil {
			d.metrics.error("schedule")
			d.log.Error("registering a scheduled job", "job", j.Name, "err", err)
			continue
		}
		if added {
			d.log.Info("scheduled job due", "job", j.Name, "kind", j.Kind, "period", en.period, "file_id", id)
		}
	}
}
