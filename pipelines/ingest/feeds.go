package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/tabular"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/mappings/authfeed"
	"github.com/calaim-gateway/calaim-gateway/mappings/programs"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Report columns of a feed ingest, like rejects.csv's.
var reportFeedHeader = []string{"source_file", "row", "field", "rule_id", "severity", "message"}

// IngestAuth loads authorization feed files (CSV, XLSX or JSON lines). A
// row replaces the authorization with its number (the latest row is the
// authorization's current state); a malformed row, or one that contradicts
// policy, is reported and not loaded.
func IngestAuth(ctx context.Context, job Job) []Result {
	return job.feeds(ctx, store.LoadKindAuth, authfeed.Required, func(base string, spreadsheet, date1904 bool) rowLoader {
		d := &authfeed.Decoder{Coding: job.Coding, Tables: job.Tables, Data: job.Data, MemberID: job.memberID(), File: base, Spreadsheet: spreadsheet, Date1904: date1904}
		var a domain.Authorization
		return func(ctx context.Context, load store.EnrollmentLoad, rec authfeed.Record, row int) ([]authfeed.Finding, error) {
			fs := d.Decode(rec, row, &a)
			if authfeed.HasError(fs) {
				return fs, nil
			}
			err := load.PutAuthorization(ctx, &a)
			if errors.Is(err, store.ErrAuthOtherMember) {
				return append(fs, authfeed.Finding{Row: row, Field: authfeed.ColNumber, Rule: rules.AuthFeedInvalid,
					Message: "authorization_number " + a.Number + " is on file for another member: not loaded"}), nil
			}
			return fs, err
		}
	})
}

// IngestPrograms loads other_programs feed files.
func IngestPrograms(ctx context.Context, job Job) []Result {
	excl := map[string]rules.Exclusion{}
	if job.Data != nil {
		excl = job.Data.Exclusions
	}
	return job.feeds(ctx, store.LoadKindOtherPrograms, programs.Required, func(base string, spreadsheet, date1904 bool) rowLoader {
		d := &programs.Decoder{Exclusions: excl, MemberID: job.memberID(), File: base, Spreadsheet: spreadsheet, Date1904: date1904}
		var p domain.ProgramSpan
		return func(ctx context.Context, load store.EnrollmentLoad, rec authfeed.Record, row int) ([]authfeed.Finding, error) {
			fs := d.Decode(rec, row, &p)
			if authfeed.HasError(fs) {
				return fs, nil
			}
			return fs, load.PutProgram(ctx, &p)
		}
	})
}

// rowLoader checks one row and loads it when it has no error.
type rowLoader func(ctx context.Context, load store.EnrollmentLoad, rec authfeed.Record, row int) ([]authfeed.Finding, error)

// newRowLoader makes the rowLoader of a feed file (its base name; whether
// it is a spreadsheet, and one in the 1904 date system).
type newRowLoader func(base string, spreadsheet, date1904 bool) rowLoader

func (job *Job) feeds(ctx context.Context, kind string, required []string, newLoader newRowLoader) []Result {
	var out []Result
	for _, path := range job.Files {
		start := time.Now()
		r := job.feed(ctx, path, kind, required, newLoader)
		r.Took = time.Since(start)
		out = append(out, r)
		if ctx.Err() != nil {
			break
		}
	}
	return out
}

func (job *Job) feed(ctx context.Context, path, kind string, required []string, newLoader newRowLoader) Result {
	res := Result{File: path, Kind: kind}
	base := filepath.Base(path)
	lim := job.limits()
	rows, err := authfeed.OpenRowsWith(path, &tabular.Options{MaxRecordBytes: lim.CSVRecordBytes, MaxColumns: lim.FieldsPerRow})
	if err != nil {
		res.Err = fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
		return res
	}
	defer rows.Close()
	loadRow := newLoader(base, rows.Format == string(tabular.XLSX), rows.Date1904())
	var missing []string
	for _, c := range required {
		if !rows.HasColumn(c) {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		res.Err = fmt.Errorf("%w: %s: not a %s feed: the header lacks %s (it has %s)", ErrUnusable, path, kind, strings.Join(missing, ", "),
			tabular.DescribeNames(rows.Columns(), authfeed.Columns, programs.Columns))
		return res
	}
	sum, size, err := hashFile(path)
	if err != nil {
		res.Err = fmt.Errorf("%w: %s: %v", ErrUnusable, path, err)
		return res
	}
	res.Bytes = size
	load, err := job.Store.BeginEnrollmentLoad(ctx, kind, base, sum)
	var already *store.AlreadyLoadedError
	if errors.As(err, &already) {
		res.Already = already
		job.log().Info("feed already loaded", "kind", kind, "file", base, "load", already.Load)
		return res
	}
	if err != nil {
		res.Err = err
		return res
	}
	res.Load = load.ID()
	rep, err := newReport(job.outPath(path, ReportSuffix), reportFeedHeader, job.limits().FindingsPerFile)
	if err != nil {
		load.Rollback()
		res.Err = err
		return res
	}
	res.Report = rep.f.FinalName()
	fail := func(err error) Result {
		load.Rollback()
		rep.abort()
		res.Report, res.Err = "", err
		return res
	}
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		rec, row, err := rows.Next()
		if err == io.EOF {
			break
		}
		var re *authfeed.RowError
		if errors.As(err, &re) {
			res.Read++
			res.Rejected++
			rep.row(base, strconv.Itoa(re.Row), "", rowRule(kind), "error", re.Err.Error())
			continue
		}
		var le *tabular.LimitError
		if errors.As(err, &le) {
			return fail(fmt.Errorf("%w: %s: %v: the file is refused", ErrUnusable, path, err))
		}
		if err != nil {
			return fail(fmt.Errorf("%s: %w", path, err))
		}
		res.Read++
		fs, err := loadRow(ctx, load, rec, row)
		if err != nil {
			return fail(err)
		}
		for _, f := range fs {
			rep.row(base, strconv.Itoa(f.Row), f.Field, f.Rule, severity(f.Warning), f.Message)
			if f.Warning {
				res.Warnings++
			}
		}
		if authfeed.HasError(fs) {
			res.Rejected++
		} else {
			res.Loaded++
		}
	}
	if res.Loaded == 0 && res.Read > 0 {
		load.Rollback() // nothing to keep; the same file may be fixed and sent again
	} else if err := load.Commit(ctx, "", res.Summary()); err != nil {
		return fail(err)
	} else {
		res.Committed = true
	}
	if err := rep.commit(); err != nil {
		res.Err = err
		return res
	}
	job.log().Info("feed ingested", "kind", kind, "file", base, "load", res.Load, "rows_read", res.Read, "rows_loaded", res.Loaded,
		"rows_rejected", res.Rejected, "warnings", res.Warnings)
	return res
}

func rowRule(kind string) string {
	if kind == store.LoadKindOtherPrograms {
		return rules.ProgramFeedInvalid
	}
	return rules.AuthFeedInvalid
}
