package daemon

import (
	"context"
	"fmt"
	"time"

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
