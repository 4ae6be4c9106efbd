package encounters

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/report"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

// UnknownProvider names the reports of lines whose billing NPI is missing
// or not a 10-digit number.
const UnknownProvider = "unknown-provider"

// ProviderReport is one billing provider's own reports of a conversion.
type ProviderReport struct {
	Provider    string // the billing NPI, or UnknownProvider
	RejectsPath string // rejects-<NPI>.csv
	SummaryPath string // summary-<NPI>.html
	Accepted    int
	Rejected    int
}

// providerReports writes, for each billing provider of a conversion, the
// lines of that provider only: rejects-<NPI>.csv and summary-<NPI>.html,
// so that a plan can return each provider its own lines. A DUPLICATE-LINE
// message in them names the line it repeats only when that line's run
// billed the provider's NPI alone (sentToSender). Their files are
// committed with the run's other reports.
type providerReports struct {
	dir, prefix string
	by          map[string]*providerReport
}

type providerReport struct {
	rejFile *atomicfile.File
	rejects *report.RejectWriter
	sum     report.Summary
	files   map[int]int // the conversion's file index → index in sum.Files
}

// providerKey is the name a line's provider reports go under: the billing
// NPI when it is 10 digits (never anything else in a file name).
func providerKey(npi string) string {
	if len(npi) != 10 {
		return UnknownProvider
	}
	for i := 0; i < len(npi); i++ {
		if npi[i] < '0' || npi[i] > '9' {
			return UnknownProvider
		}
	}
	return npi
}

// line records one line of the conversion in its provider's reports.
func (p *providerReports) line(c *converter, cand *candidate) error {
	key := providerKey(cand.line.Billing.NPI)
	pr, ok := p.by[key]
	if !ok {
		f, err := atomicfile.Create(filepath.Join(p.dir, "rejects-"+key+".csv"), p.prefix)
		if err != nil {
			return err
		}
		w, err := report.NewRejectWriter(f)
		if err != nil {
			f.Abort()
			return err
		}
		pr = &providerReport{rejFile: f, rejects: w, files: map[int]int{},
			sum: report.Summary{RunID: c.sum.RunID, Started: c.sum.Started, Provider: key, ByRule: map[string]int{}}}
		p.by[key] = pr
	}
	fi, ok := pr.files[cand.file]
	if !ok {
		f := c.sum.Files[cand.file]
		pr.sum.Files = append(pr.sum.Files, report.FileSummary{Name: f.Name, Format: f.Format})
		fi = len(pr.sum.Files) - 1
		pr.files[cand.file] = fi
	}
	fs := &pr.sum.Files[fi]
	fs.Rows++
	if len(cand.decisions) == 0 {
		fs.Accepted++
		return nil
	}
	fs.Rejected++
	for _, d := range cand.decisions {
		r := sentToSender(cand, rejectOf(cand, d), false)
		pr.sum.ByRule[d.Rule]++
		if len(pr.sum.Rejects) < maxSummaryRejects {
			pr.sum.Rejects = append(pr.sum.Rejects, r)
		} else {
			pr.sum.MoreRejects++
		}
		if err := pr.rejects.Write(r); err != nil {
			return err
		}
	}
	return nil
}

// write flushes the rejects and writes each provider's summary page under
// its temporary name.
func (p *providerReports) write(c *converter) ([]*atomicfile.File, []ProviderReport, error) {
	var files []*atomicfile.File
	var out []ProviderReport
	for _, key := range slices.Sorted(maps.Keys(p.by)) {
		pr := p.by[key]
		if err := pr.rejects.Flush(); err != nil {
			return files, nil, fmt.Errorf("rejects-%s.csv: %w", key, err)
		}
		files = append(files, pr.rejFile)
		pr.sum.Finished, pr.sum.Output, pr.sum.Interchange = c.sum.Finished, c.sum.Output, c.sum.Interchange
		t := pr.sum.Totals()
		pr.sum.Lines = t.Accepted
		if t.Accepted == 0 {
			pr.sum.Output = ""
		}
		sf, err := atomicfile.Create(filepath.Join(p.dir, "summary-"+key+".html"), p.prefix)
		if err != nil {
			return files, nil, err
		}
		files = append(files, sf)
		if err := pr.sum.WriteHTML(sf); err != nil {
			return files, nil, fmt.Errorf("summary-%s.html: %w", key, err)
		}
		out = append(out, ProviderReport{Provider: key, RejectsPath: pr.rejFile.FinalName(), SummaryPath: sf.FinalName(),
			Accepted: t.Accepted, Rejected: t.Rejected})
	}
	return files, out, nil
}

// abort drops the providers' reports of a conversion that did not finish.
func (p *providerReports) abort() {
	for _, pr := range p.by {
		pr.rejFile.Abort()
	}
}

// rejectOf is the rejects.csv row of one decision against a line.
func rejectOf(cand *candidate, d rules.Decision) report.Reject {
	return report.Reject{SourceFile: cand.line.Source.File, Row: cand.line.Source.Row, InvoiceNumber: cand.line.InvoiceNumber,
		LineNumber: cand.line.LineNumber, RuleID: d.Rule, Field: d.Field, Message: d.Message}
}
