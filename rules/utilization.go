package rules

import (
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// POFUtilizationThreshold: a member meets the numeric threshold of a
// population of focus "at risk for avoidable hospital or ED utilization"
// (rules/data/pof_utilization.csv).
const POFUtilizationThreshold = "POF-UTILIZATION-THRESHOLD"

// UtilizationThreshold is one row of pof_utilization.csv.
type UtilizationThreshold struct {
	POF            string
	MinAge, MaxAge int // whole years on the as-of date; MaxAge < 0: no upper bound
	WindowMonths   int
	EDVisits       int // this many ED visits in the window qualify
	InpatientStays int // or this many inpatient stays
	From, To       civil.Date
	Source         string
}

// LoadUtilizationThresholds reads pof_utilization.csv from fsys (see
// DataFS); pofs are the known populations of focus.
func LoadUtilizationThresholds(fsys fs.FS, pofs map[string]POF) ([]UtilizationThreshold, error) {
	tab, err := readTable(fsys, "pof_utilization.csv", "pof", "min_age", "max_age", "window_months", "ed_visits", "inpatient_stays", "effective_from", "effective_to", "source")
	if err != nil {
		return nil, err
	}
	var out []UtilizationThreshold
	for _, r := range tab.rows {
		th := UtilizationThreshold{POF: strings.ToUpper(r.Get("pof")), MaxAge: -1, Source: r.Get("source")}
		if _, ok := pofs[th.POF]; !ok {
			return nil, r.Errorf("unknown POF %q", th.POF)
		}
		num := func(col string, dst *int, min int) error {
			n, err := strconv.Atoi(r.Get(col))
			if err != nil || n < min {
				return r.Errorf("%s %q: want a whole number of at least %d", col, r.Get(col), min)
			}
			*dst = n
			return nil
		}
		for _, c := range []struct {
			col string
			dst *int
			min int
		}{{"min_age", &th.MinAge, 0}, {"window_months", &th.WindowMonths, 1}, {"ed_visits", &th.EDVisits, 1}, {"inpatient_stays", &th.InpatientStays, 1}} {
			if err := num(c.col, c.dst, c.min); err != nil {
				return nil, err
			}
		}
		if r.Get("max_age") != "" {
			if err := num("max_age", &th.MaxAge, th.MinAge); err != nil {
				return nil, err
			}
		}
		if th.From, th.To, err = tab.dateRange(r, "effective_from", "effective_to"); err != nil {
			return nil, err
		}
		out = append(out, th)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("rule table pof_utilization.csv: no threshold")
	}
	return out, nil
}

// UtilizationVisit is one ED visit or inpatient stay of a member.
type UtilizationVisit struct {
	Day       civil.Date // its first event's date
	Inpatient bool       // an inpatient stay (an ED visit that became one counts as the stay alone)
	// Planned marks an inpatient stay that is not unplanned
	// (POFUnplannedStay): it counts for nothing, neither as a stay nor as
	// an ED visit.
	Planned bool
}

// UtilizationVisits turns a member's active ADT events into visits: the
// events of one visit (same sending system, that is profile, MSH-3.1 and
// MSH-4.1, and same PV1-19 visit number; an event
// without a visit number is a visit of its own) make an inpatient stay
// when one is an admit of patient class I or a change to inpatient (A06),
// else an ED visit when one is an admit or registration of class E;
// other visits (outpatient, preadmit, discharges alone) do not count.
// A stay is unplanned (POFUnplannedStay) when one of its admit or
// to-inpatient events carries a PV1-4 admission type that types says is
// unplanned on the event's day; when none carries one, the types' row for
// PV1-4 not sent decides, on the stay's first such day. Dates are in loc.
// The visits come in date order.
func UtilizationVisits(events []domain.ADTEvent, types AdmissionTypes, loc *time.Location) []UtilizationVisit {
	type acc struct {
		day       civil.Date
		ed, inpat bool
		inpatDay  civil.Date // the first admit or to-inpatient event's day
		coded     bool       // one of those carries PV1-4
		unplanned bool       // one of those carries an unplanned PV1-4
	}
	visits := map[string]*acc{}
	var keys []string
	for i := range events {
		ev := &events[i]
		key := ev.Sender + "\x00" + domain.SendingID(ev.SendingApplication) + "\x00" + domain.SendingID(ev.SendingFacility) + "\x00" + ev.VisitNumber
		if ev.VisitNumber == "" {
			key = "#" + strconv.Itoa(i)
		}
		v := visits[key]
		if v == nil {
			v = &acc{}
			visits[key] = v
			keys = append(keys, key)
		}
		day := civil.FromTime(ev.EventTime.In(loc))
		starts := false
		switch {
		case ev.Kind == domain.ADTToInpatient, ev.Kind == domain.ADTAdmit && ev.PatientClass == "I":
			v.inpat, starts = true, true
			if v.inpatDay == 0 || day < v.inpatDay {
				v.inpatDay = day
			}
			if ev.AdmissionType != AdmissionTypeNotSent {
				v.coded = true
				if u, _ := types.Unplanned(ev.AdmissionType, day); u {
					v.unplanned = true
				}
			}
		case (ev.Kind == domain.ADTAdmit || ev.Kind == domain.ADTRegister) && ev.PatientClass == "E":
			v.ed, starts = true, true
		}
		if starts && (v.day == 0 || day < v.day) {
			v.day = day
		}
	}
	var out []UtilizationVisit
	for _, k := range keys {
		v := visits[k]
		if !v.inpat && !v.ed {
			continue
		}
		uv := UtilizationVisit{Day: v.day, Inpatient: v.inpat}
		if v.inpat {
			unplanned := v.unplanned
			if !v.coded {
				unplanned, _ = types.Unplanned(AdmissionTypeNotSent, v.inpatDay)
			}
			uv.Planned = !unplanned
		}
		out = append(out, uv)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}

// UtilizationResult is a member's counts against one threshold.
type UtilizationResult struct {
	Threshold           *UtilizationThreshold
	WindowFrom, AsOf    civil.Date // the visits counted are in [WindowFrom, AsOf]
	EDVisits, Inpatient int        // Inpatient: the unplanned stays
	// Planned are the planned stays in the window, not counted.
	Planned int
}

// MeetsUtilizationThreshold decides POFUtilizationThreshold for a member
// of age (whole years on asOf) with these visits: the first threshold in
// force on asOf whose ages hold and whose ED or unplanned inpatient count
// is met within its window (the window_months months up to and including
// asOf). Planned stays count for nothing.
func MeetsUtilizationThreshold(ths []UtilizationThreshold, age int, asOf civil.Date, visits []UtilizationVisit) (UtilizationResult, bool) {
	for i := range ths {
		th := &ths[i]
		if asOf < th.From || th.To != 0 && asOf > th.To || age < th.MinAge || th.MaxAge >= 0 && age > th.MaxAge {
			continue
		}
		res := UtilizationResult{Threshold: th, WindowFrom: asOf.AddMonths(-th.WindowMonths).AddDays(1), AsOf: asOf}
		for _, v := range visits {
			if v.Day < res.WindowFrom || v.Day > asOf {
				continue
			}
			switch {
			case v.Planned:
				res.Planned++
			case v.Inpatient:
				res.Inpatient++
			default:
				res.EDVisits++
			}
		}
		if res.EDVisits >= th.EDVisits || res.Inpatient >= th.InpatientStays {
			return res, true
		}
	}
	return UtilizationResult{}, false
}

// AgeOn is a person's age in whole years on day.
func AgeOn(dob, day civil.Date) int {
	age := day.Year() - dob.Year()
	if day.Month() < dob.Month() || day.Month() == dob.Month() && day.Day() < dob.Day() {
		age--
	}
	return age
}
