package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/edi/tabular"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/mappings/authfeed"
	"github.com/calaim-gateway/calaim-gateway/mappings/enrollment"
	"github.com/calaim-gateway/calaim-gateway/mappings/programs"
	"github.com/calaim-gateway/calaim-gateway/rules"
)

func init() {
	registerX12Extra("834", check834)
	registerTabular(tabularKind{name: "authorization feed", detect: hasColumns(authfeed.Required), validate: validateAuthFeed})
	registerTabular(tabularKind{name: "other_programs feed", detect: hasColumns(programs.Required), validate: validatePrograms})
}

// check834 reports the data problems `calgw ingest --kind 834` would skip
// a member for, beyond the implementation guide (which validateX12 has
// checked): no usable CIN, a bad date of birth or coverage date, an unknown
// county, a termination without an end date. One pass of the tokenizer.
func check834(ctx context.Context, g *globals, path string, w io.Writer) (int, error) {
	cfg, err := config.Load(g.config)
	if err != nil {
		return 0, err
	}
	tables, err := rules.LoadTables(rules.DataFS(cfg.RulesData))
	if err != nil {
		return 0, err
	}
	re, err := regexp.Compile(cfg.Encounters.MemberIDPattern)
	if err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	p := enrollment.New(enrollment.Options{MemberID: re, County: tables.CountyCode, ShareOfCostAmount: cfg.Eligibility.ShareOfCostAmount})
	problems, members, bad, full := 0, 0, 0, false
	p.OnHeader = func(h *enrollment.Header) error { full = full || h.Full; return nil }
	p.OnMember = func(m *enrollment.Member) error {
		members++
		if m.OK() {
			return nil
		}
		bad++
		for _, pr := range m.Problems {
			problems++
			fmt.Fprintf(w, "%s: %s %s: %s: member loop %d (INS at segment %d) would be skipped: %s\n",
				path, pr.Pos, pr.Element, rules.EnrollmentMemberInvalid, m.Number, m.Start.Ordinal, pr.Message)
		}
		return nil
	}
	rd := x12.NewReader(f)
	in834 := false
	for i := 0; ; i++ {
		if i&4095 == 0 && ctx.Err() != nil {
			return problems, ctx.Err()
		}
		seg, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			break // the implementation-guide pass reports it
		}
		if seg.Is("ST") {
			in834 = string(seg.Element(1)) == "834"
		}
		if !in834 {
			continue // another kind of set in the file: not ours
		}
		if err := p.Segment(seg); err != nil {
			return problems, err
		}
	}
	if err := p.Flush(); err != nil {
		return problems, err
	}
	kind := "change"
	if full {
		kind = "full"
	}
	fmt.Fprintf(w, "%s: 834 %s file, %d member loop(s), %d with data problems (%d problem(s))\n", path, kind, members, bad, problems)
	return problems, nil
}

func hasColumns(cols []string) func(h *tabular.Header) bool {
	return func(h *tabular.Header) bool {
		for _, c := range cols {
			if h.Index(c) < 0 {
				return false
			}
		}
		return true
	}
}

// tabRecord reads a tabular row by column name.
type tabRecord struct {
	h   *tabular.Header
	row tabular.Row
}

func (r tabRecord) Get(col string) string { return r.row.Cell(r.h.Index(col)) }

func validateAuthFeed(g *globals, path string, r *tabular.Reader) int {
	rd, err := loadRuleData(g)
	if err != nil {
		return g.fail(err)
	}
	d := &authfeed.Decoder{Coding: rd.coding, Tables: rd.tables, Data: rd.data, MemberID: regexp.MustCompile(rd.cfg.Encounters.MemberIDPattern), File: path, Spreadsheet: r.Format == tabular.XLSX}
	return validateFeedRows(g, path, r, "authorization feed", func(rec authfeed.Record, row int) []authfeed.Finding {
		var a domain.Authorization
		return d.Decode(rec, row, &a)
	})
}

func validatePrograms(g *globals, path string, r *tabular.Reader) int {
	cfg, err := config.Load(g.config)
	if err != nil {
		return g.fail(err)
	}
	data, err := rules.LoadEligibilityTables(rules.DataFS(cfg.RulesData))
	if err != nil {
		return g.fail(err)
	}
	d := &programs.Decoder{Exclusions: data.Exclusions, MemberID: regexp.MustCompile(cfg.Encounters.MemberIDPattern), File: path, Spreadsheet: r.Format == tabular.XLSX}
	return validateFeedRows(g, path, r, "other_programs feed", func(rec authfeed.Record, row int) []authfeed.Finding {
		var p domain.ProgramSpan
		return d.Decode(rec, row, &p)
	})
}

func validateFeedRows(g *globals, path string, r *tabular.Reader, what string, decode func(authfeed.Record, int) []authfeed.Finding) int {
	rows, bad, problems := 0, 0, 0
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		rows++
		if re, ok := err.(*tabular.RowError); ok {
			fmt.Fprintf(g.stdout, "%s row %d: %v\n", path, re.Row, re.Err)
			bad++
			problems++
			continue
		}
		if err != nil {
			fmt.Fprintf(g.stdout, "%s: unusable: %v\n", path, err)
			return exitUnusable
		}
		fs := decode(tabRecord{h: r.Header, row: row}, row.Number)
		for _, f := range fs {
			fmt.Fprintf(g.stdout, "%s %s\n", path, f)
			if !f.Warning {
				problems++
			}
		}
		if authfeed.HasError(fs) {
			bad++
		}
	}
	fmt.Fprintf(g.stdout, "%s: %s (%s), %d row(s), %d not loadable, %d problem(s)\n", path, what, r.Format, rows, bad, problems)
	if bad > 0 {
		return exitRejected
	}
	return exitOK
}
