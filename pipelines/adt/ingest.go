package adt

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Kind is the ingest and daemon kind of ADT files.
const Kind = "adt"

// ReportSuffix ends the name of a file's ADT report (beside the file or in
// the output directory).
const ReportSuffix = ".adt-report.csv"

// ReportHeader is the header of an ADT report: one row per exception or
// problem of the source; no member data.
var ReportHeader = []string{"source", "message", "line", "control_id", "reason"}

// IngestFiles records the ADT messages of each file (`calgw ingest --kind
// adt`): one ingest.Result per file, with Read the messages, Loaded the
// events stored, Rejected the exceptions and Warnings the duplicates and
// the file's own problems; a file whose every message was recorded before
// is Already loaded. Each file's report lists its exceptions and problems.
func IngestFiles(ctx context.Context, j ingest.Job) []ingest.Result {
	st, ok := j.Store.(Store)
	var out []ingest.Result
	for _, path := range j.Files {
		if ctx.Err() != nil {
			break
		}
		r := ingest.Result{File: path, Kind: Kind}
		if !ok {
			r.Err = fmt.Errorf("%w: the state store keeps no ADT events", ingest.ErrUnusable)
			out = append(out, r)
			continue
		}
		now := time.Now
		if j.Now != nil {
			now = j.Now
		}
		start := time.Now()
		p := &Processor{Store: st, Profiles: Profiles(j.Config)}
		res, err := processFile(ctx, p, path, now())
		r.Took = time.Since(start)
		r.Read, r.Loaded, r.Rejected, r.Warnings = res.Messages, res.Stored, res.Exceptions, res.Duplicates+len(res.Problems)-res.Exceptions
		r.Committed = res.Stored+res.Duplicates+res.Exceptions > 0
		if err != nil {
			r.Err = err
			out = append(out, r)
			continue
		}
		if res.Messages > 0 && res.Duplicates == res.Messages {
			r.Already = &store.AlreadyLoadedError{File: filepath.Base(path), At: now()}
		}
		dir := j.OutDir
		if dir == "" {
			dir = filepath.Dir(path)
		}
		r.Report = filepath.Join(dir, filepath.Base(path)+ReportSuffix)
		if err := WriteReport(r.Report, res.Problems); err != nil {
			r.Err = err
		}
		if j.Log != nil {
			j.Log.Info("adt ingest", "file", filepath.Base(path), "summary", res.Summary())
		}
		out = append(out, r)
	}
	return out
}

func processFile(ctx context.Context, p *Processor, path string, receivedAt time.Time) (Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, fmt.Errorf("%w: %v", ingest.ErrUnusable, err)
	}
	defer f.Close()
	return p.Process(ctx, FileSource(filepath.Base(path), f, receivedAt))
}

// WriteReport writes the problems as an ADT report, atomically.
func WriteReport(path string, problems []Exception) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("adt report: %w", err)
	}
	f, err := atomicfile.Create(path, ".calgw-adt-")
	if err != nil {
		return fmt.Errorf("adt report: %w", err)
	}
	if err := writeReport(f, problems); err != nil {
		f.Abort()
		return fmt.Errorf("adt report %s: %w", path, err)
	}
	return f.Commit()
}

func writeReport(w io.Writer, problems []Exception) error {
	cw := csv.NewWriter(w)
	cw.Write(ReportHeader)
	for _, p := range problems {
		msg := ""
		if p.Position > 0 {
			msg = strconv.Itoa(p.Position)
		}
		cw.Write([]string{p.Source, msg, strconv.Itoa(p.Line), p.ControlID, p.Reason})
	}
	cw.Flush()
	return cw.Error()
}
