package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// reportPending lists the batches of service lines accepted from
// providers' 837Ps that wait to be sent to DHCS (each batch is one
// interchange's accepted claims; its number is the first 9 digits of their
// claim numbers), or with --release BATCH ends the pending state of one
// batch whose encounter lines will never be converted. Exit 0; 1 when
// --release finds no pending line in the batch; 2 for a bad flag,
// configuration or store.
func reportPending(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("report pending", "[--older-than DAYS] [--release BATCH]")
	days := fs.Int("older-than", 0, "only batches received at least this many days ago")
	release := fs.String("release", "", "end the pending state of this batch's lines (9 digits), when its encounter lines file is lost")
	rest, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(g.stderr, "calgw report pending: unexpected argument %q\n", rest[0])
		fs.Usage()
		return exitUnusable
	}
	if *days < 0 {
		fmt.Fprintln(g.stderr, "calgw report pending: --older-than must not be negative")
		return exitUnusable
	}
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	defer gw.Close()
	if *release != "" {
		n, err := gw.ReleasePending(ctx, *release)
		if err != nil {
			return g.fail(err)
		}
		if n == 0 {
			fmt.Fprintf(g.stdout, "batch %s has no line waiting to be sent\n", *release)
			return exitRejected
		}
		fmt.Fprintf(g.stdout, "released %d line(s) of batch %s: they no longer count as earlier lines, and the provider's claims for those services can be sent again\n", n, *release)
		return exitOK
	}
	list, err := gw.PendingBatches(ctx, time.Duration(*days)*24*time.Hour)
	if err != nil {
		return g.fail(err)
	}
	when := ""
	if *days > 0 {
		when = fmt.Sprintf(", received %d or more day(s) ago", *days)
	}
	fmt.Fprintf(g.stdout, "%d batch(es) of lines accepted from providers' 837Ps and not yet sent to DHCS%s\n", len(list), when)
	if len(list) == 0 {
		return exitOK
	}
	now := g.now
	if now.IsZero() {
		now = time.Now()
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "BATCH\tRECEIVED\tAGE\tFILE\tSENDER\tISA13\tCLAIMS\tLINES\tENCOUNTER LINES")
	for _, b := range list {
		received, age, lines := "-", "-", "-"
		if !b.ReceivedAt.IsZero() {
			received = b.ReceivedAt.Format("2006-01-02 15:04")
			age = fmt.Sprintf("%dd", int(now.Sub(b.ReceivedAt).Hours()/24))
		}
		if b.File != "" {
			lines = strings.TrimSuffix(b.File, filepath.Ext(b.File)) + ".encounters.csv"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", b.Batch, received, age, dash(b.File), dash(b.Sender), dash(b.ISA13), b.Claims, b.Lines, lines)
	}
	tw.Flush()
	fmt.Fprintln(g.stdout, "\nsend them: calgw convert --in FILE.encounters.csv --out DIR (the daemon's invoice route does it for files the 837p route delivered);")
	fmt.Fprintln(g.stdout, "a batch whose encounter lines file is lost: calgw report pending --release BATCH, then have the provider send those claims again")
	return exitOK
}
