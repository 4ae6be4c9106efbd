// Package genmonthly fills a SQLite state directory with a large plan's
// year, for the monthly monitoring file's figures in `make bench`: members
// with an 834 span each, a year of ECM and Community Supports
// authorizations, and a year of encounter lines sent (ECM monthly, outreach,
// Community Supports). The data are made up and deterministic; nothing is
// committed.
package genmonthly

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Year is the generated year.
const Year = 2026

// Counties and their share of members: the plan codes a bench config maps.
var Counties = []string{"19", "33", "36", "37"}

// CIN returns member i's CIN (8 digits and a letter).
func CIN(i int) string { return fmt.Sprintf("9%07d%c", i%10000000, 'A'+rune(i/10000000%26)) }

// Stats counts what was generated.
type Stats struct {
	Members, Auths, Lines int
}

// Generate writes n members into the SQLite store in dir.
func Generate(ctx context.Context, dir string, n int) (Stats, error) {
	var st Stats
	s, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		return st, err
	}
	defer s.Close()
	jan1, dec31 := civil.New(Year, time.January, 1), civil.New(Year, time.December, 31)
	l, err := s.BeginEnrollmentLoad(ctx, store.LoadKind834, "bench.834", sha256.Sum256([]byte(fmt.Sprint("bench834", n))))
	if err != nil {
		return st, err
	}
	for i := range n {
		county := Counties[i%len(Counties)]
		sp := domain.EligibilitySpan{From: jan1, PlanCode: "010", County: county}
		if i%50 == 7 { // some leave mid-year
			sp.To = civil.New(Year, time.Month(1+i%12), 15)
		}
		c := &domain.EnrollmentChange{Enrollee: domain.Enrollee{Member: domain.Member{CIN: CIN(i), LastName: "MEMBER", FirstName: "BENCH"}, County: county},
			Ops: []domain.SpanOp{{Kind: domain.SpanUpsert, Span: sp}}}
		if err := l.PutMember(ctx, c); err != nil {
			return st, err
		}
		st.Members++
	}
	if err := l.Commit(ctx, "", "bench"); err != nil {
		return st, err
	}
	al, err := s.BeginEnrollmentLoad(ctx, store.LoadKindAuth, "bench-auth.csv", sha256.Sum256([]byte(fmt.Sprint("benchauth", n))))
	if err != nil {
		return st, err
	}
	pofs := []string{"POF1A", "POF2A", "POF3A", "POF5", "POF9"}
	for i := range n {
		var as []domain.Authorization
		switch {
		case i%4 == 0: // a quarter of members in ECM: two authorizations over the year
			start := civil.New(Year, time.Month(1+i%6), 1)
			mid := civil.New(Year, time.Month(7+i%6), 1)
			as = append(as,
				domain.Authorization{Number: fmt.Sprintf("E%d-1", i), CIN: CIN(i), Service: "ECM", POF: pofs[i%len(pofs)], ProviderNPI: "1234567893",
					Status: domain.AuthApproved, Type: domain.AuthInitial, From: start, To: mid.AddDays(-1), Decided: start.AddDays(-5)},
				domain.Authorization{Number: fmt.Sprintf("E%d-2", i), CIN: CIN(i), Service: "ECM", POF: pofs[i%len(pofs)], ProviderNPI: "1234567893",
					Status: domain.AuthApproved, Type: domain.AuthReauthorization, From: mid, To: dec31, Decided: mid.AddDays(-3)})
		case i%10 == 1: // Community Supports
			from := civil.New(Year, time.Month(1+i%12), 1)
			a := domain.Authorization{Number: fmt.Sprintf("C%d", i), CIN: CIN(i), Service: "CS12", Status: domain.AuthApproved, Type: domain.AuthInitial,
				From: from, To: from.AddMonths(3).AddDays(-1), Decided: from.AddDays(-2)}
			if i%30 == 1 {
				a.Status = domain.AuthDenied
			}
			as = append(as, a)
		}
		for j := range as {
			if err := al.PutAuthorization(ctx, &as[j]); err != nil {
				return st, err
			}
			st.Auths++
		}
	}
	if err := al.Commit(ctx, "", "bench"); err != nil {
		return st, err
	}
	run, err := s.BeginRun(ctx, "bench", "genmonthly")
	if err != nil {
		return st, err
	}
	var batch []domain.SentService
	flush := func() error {
		if err := s.RecordServices(ctx, run, batch); err != nil {
			return err
		}
		st.Lines += len(batch)
		batch = batch[:0]
		return nil
	}
	for i := range n {
		for m := 1; m <= 12; m++ {
			d := civil.New(Year, time.Month(m), 1+i%28)
			switch {
			case i%4 == 0:
				batch = append(batch, domain.SentService{CIN: CIN(i), Service: "ECM", HCPCS: "G9008", Modifiers: []string{"U1"}, From: d, To: d, Units: 1000, Charge: 45000, NPI: "1234567893"})
			case i%10 == 1 && m%3 == 1:
				batch = append(batch, domain.SentService{CIN: CIN(i), Service: "CS12", HCPCS: "S5170", Modifiers: []string{"U6"}, From: d, To: d, Units: 14000, Charge: 21000, NPI: "1234567893"})
			case i%40 == 3 && m == 1+i%12:
				batch = append(batch, domain.SentService{CIN: CIN(i), Service: "ECM", HCPCS: "G9012", Modifiers: []string{"U8"}, Outreach: true, From: d, To: d, Units: 1000, NPI: "1234567893"})
			}
		}
		if len(batch) >= 10000 {
			if err := flush(); err != nil {
				return st, err
			}
		}
	}
	if err := flush(); err != nil {
		return st, err
	}
	if err := run.Written(ctx, "", ""); err != nil {
		return st, err
	}
	return st, s.CompleteRun(ctx, run.ID(), "bench")
}
