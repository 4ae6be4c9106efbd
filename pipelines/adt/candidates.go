package adt

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// POFAvoidableUtilization names the populations of focus "at risk for
// avoidable hospital or ED utilization" (POF2A adults, POF2B children and
// youth) in `calgw report candidates --pof`.
const POFAvoidableUtilization = "avoidable-utilization"

// CandidateStore is what the candidates report needs of the state store.
type CandidateStore interface {
	ADTEventsBetween(ctx context.Context, from, to time.Time, fn func(*store.ADTEventRecord) error) error
	Member(ctx context.Context, cin string) (*domain.Enrollee, bool, error)
	Authorizations(ctx context.Context, cin string) ([]domain.Authorization, error)
}

// Candidate is a member who meets a utilization threshold and holds no
// ECM authorization.
type Candidate struct {
	CIN            string
	Age            int
	POF            string
	EDVisits       int
	InpatientStays int
	WindowFrom     civil.Date
	AsOf           civil.Date
	Source         string // the threshold's source note
}

// UnplannedStayRule is the rule that decides which inpatient stays count
// (rules.POFUnplannedStay).
const UnplannedStayRule = rules.POFUnplannedStay

// CandidatesResult is the report's rows and what it left out.
type CandidatesResult struct {
	Candidates []Candidate
	Members    int // members with an ED visit or inpatient stay in the longest window
	Authorized int // of those, meeting a threshold but holding an approved ECM authorization in force on the as-of date
	NoDOB      int // of those, left out because the enrollment data has no date of birth
	// Planned counts the inpatient stays in the longest window left out as
	// planned by their PV1-4 admission type (rules.POFUnplannedStay).
	Planned int
}

// Candidates lists the members who meet a threshold of ths on asOf
// (rules.MeetsUtilizationThreshold) counting the visits of their active
// ADT events (rules.UtilizationVisits, dates in loc: every ED visit, and
// the inpatient stays types says are unplanned), and who hold no approved
// ECM authorization in force on asOf, naming a provider or not
// (rules.HasECMAuthorization; one without an end date runs the period data
// gives its type), by CIN.
func Candidates(ctx context.Context, st CandidateStore, ths []rules.UtilizationThreshold, types rules.AdmissionTypes, data *rules.EligibilityTables, asOf civil.Date, loc *time.Location) (*CandidatesResult, error) {
	if loc == nil {
		loc = time.UTC
	}
	months := 0
	for _, th := range ths {
		months = max(months, th.WindowMonths)
	}
	from := asOf.AddMonths(-months)
	// A visit is dated by its first event (rules.UtilizationVisits): the
	// events are read from visitLookback before the longest window, so
	// that a visit begun before it (an ED registration the day before,
	// then a stay) is dated then and not counted, as in a shorter window.
	read := from.AddDays(-visitLookback)
	byCIN := map[string][]domain.ADTEvent{}
	err := st.ADTEventsBetween(ctx, time.Date(read.Year(), read.Month(), read.Day(), 0, 0, 0, 0, loc),
		time.Date(asOf.Year(), asOf.Month(), asOf.Day()+1, 0, 0, 0, 0, loc), func(r *store.ADTEventRecord) error {
			byCIN[r.CIN] = append(byCIN[r.CIN], r.ADTEvent)
			return nil
		})
	if err != nil {
		return nil, err
	}
	cins := make([]string, 0, len(byCIN))
	for cin := range byCIN {
		cins = append(cins, cin)
	}
	sort.Strings(cins)
	res := &CandidatesResult{}
	for _, cin := range cins {
		visits := rules.UtilizationVisits(byCIN[cin], types, loc)
		if len(visits) == 0 {
			continue
		}
		res.Members++
		for _, v := range visits {
			if v.Planned && v.Day > from && v.Day <= asOf {
				res.Planned++
			}
		}
		m, ok, err := st.Member(ctx, cin)
		if err != nil {
			return nil, err
		}
		if !ok || m.DOB == 0 {
			res.NoDOB++
			continue
		}
		age := rules.AgeOn(m.DOB, asOf)
		u, ok := rules.MeetsUtilizationThreshold(ths, age, asOf, visits)
		if !ok {
			continue
		}
		auths, err := st.Authorizations(ctx, cin)
		if err != nil {
			return nil, err
		}
		if rules.HasECMAuthorization(auths, asOf, data) {
			res.Authorized++
			continue
		}
		res.Candidates = append(res.Candidates, Candidate{CIN: cin, Age: age, POF: u.Threshold.POF, EDVisits: u.EDVisits, InpatientStays: u.Inpatient,
			WindowFrom: u.WindowFrom, AsOf: asOf, Source: u.Threshold.Source})
	}
	return res, nil
}

// visitLookback is how long before a window the events of a visit that
// may have begun before it are read: longer than an ED stay before an
// admission.
const visitLookback = 31

// CandidatesHeader is the header of the candidates report.
var CandidatesHeader = []string{"member_cin", "age", "pof", "ed_visits", "inpatient_stays", "window_from", "as_of", "threshold_source"}

// WriteCandidates writes the candidates as CSV.
func WriteCandidates(w io.Writer, cs []Candidate) error {
	cw := csv.NewWriter(w)
	cw.Write(CandidatesHeader)
	for _, c := range cs {
		cw.Write([]string{c.CIN, strconv.Itoa(c.Age), c.POF, strconv.Itoa(c.EDVisits), strconv.Itoa(c.InpatientStays), c.WindowFrom.String(), c.AsOf.String(), c.Source})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("candidates: %w", err)
	}
	return nil
}
