package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/calaim-gateway/calaim-gateway/pipelines/gateway"
)

// reportEncounters lists the encounters sent whose latest answer from DHCS
// has a status (default rejected), optionally only those sent in a month,
// one per line with the answer and what to fix. Exit 0 (the list may be
// empty); 2 for a bad flag, configuration or store.
func reportEncounters(ctx context.Context, g *globals, args []string) int {
	fs := g.newFlags("report encounters", "[--status "+strings.Join(gateway.EncounterStatuses, "|")+"] [--month YYYY-MM]")
	status := fs.String("status", "rejected", "what DHCS last said of the encounter: "+strings.Join(gateway.EncounterStatuses, ", "))
	month := fs.String("month", "", "only encounters sent in this month (YYYY-MM)")
	rest, code, ok := g.parse(fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(g.stderr, "calgw report encounters: unexpected argument %q\n", rest[0])
		fs.Usage()
		return exitUnusable
	}
	gw, err := g.open(ctx)
	if err != nil {
		return g.fail(err)
	}
	defer gw.Close()
	list, err := gw.Encounters(ctx, *status, *month)
	if err != nil {
		return g.fail(err)
	}
	when := ""
	if *month != "" {
		when = ", sent in " + *month
	}
	fmt.Fprintf(g.stdout, "%d encounter(s) with status %s%s\n", len(list), *status, when)
	if len(list) == 0 {
		return exitOK
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLM01\tFREQ\tSENT\tFILE\tINVOICE\tANSWER\tENCOUNTER ID\tREASON\tANSWERED BY")
	for _, e := range list {
		answer := e.Code
		if answer == "" && e.Ack != "" {
			answer = "999 IK5 " + e.Ack
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.CLM01, e.Frequency, e.Sent, e.File, e.Invoice, dash(answer), dash(e.EncounterID), dash(e.Reason), dash(e.AnsweredBy))
	}
	tw.Flush()
	if *status == "rejected" {
		fmt.Fprintln(g.stdout, "\nto fix:")
		for _, e := range list {
			fmt.Fprintf(g.stdout, "  %s: %s\n", e.CLM01, e.Fix)
		}
	}
	return exitOK
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
