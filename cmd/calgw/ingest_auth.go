package main

import (
	"context"

	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
)

func init() {
	registerIngest(ingestKind{name: "auth", summary: "authorization feed (CSV/XLSX/JSON lines; template in docs/enrollment.md)", run: runIngestAuth})
	registerIngest(ingestKind{name: "other_programs", summary: "members in programs that exclude ECM (CSV/XLSX/JSON lines: member_cin, program, start_date, end_date)", run: runIngestPrograms})
}

// runIngestAuth loads authorization feeds. Exit codes as for the 834: 0
// loaded (bad rows reported and skipped), 1 nothing loaded, 2 unusable.
func runIngestAuth(ctx context.Context, g *globals, files []string, out string) int {
	return withIngestJob(ctx, g, files, out, func(job ingest.Job) []ingest.Result { return ingest.IngestAuth(ctx, job) })
}

func runIngestPrograms(ctx context.Context, g *globals, files []string, out string) int {
	return withIngestJob(ctx, g, files, out, func(job ingest.Job) []ingest.Result { return ingest.IngestPrograms(ctx, job) })
}
