package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// fileRow is one ledger entry of the seed.
type fileRow struct {
	id      int
	noticed time.Time
	kind    string
	state   string
	note    string
	run     any // the run's ID (the file's), or nil when it has none
}

// sink receives the seed's rows, table by table, in ID order.
type sink interface {
	file(f fileRow) error
	claim(clm01 string, run int, invoice string) error
	interchange(run, isa13 int, file string) error
	line(vals []any) error // the 17 columns of decisionCols
	rejects(day int64, rule string, lines int) error
}

// decisionCols are line_decisions' columns in the order line gives them.
const decisionCols = `run_id, seq, file, row_no, invoice, line_no, cin, npi, code, from_date, to_date, outcome, rule, field, source, message, facts`

// generate makes the seed: files ledger entries (one in ten an 834, one in
// fifty quarantined, the rest archived invoices noticed over the 100 days
// before now), for each invoice file its run's decisions (10 lines, one in
// ten rejected), its claim and its interchange, until lines decisions are
// made; then the reject counts. It returns how many decisions it made. The
// same sizes and now give the same rows on both engines.
func generate(now time.Time, files, lines int, out sink) (int, error) {
	span := 100 * 24 * time.Hour
	written := 0
	rejects := map[[2]any]int{}
	r := rand.New(rand.NewPCG(1, 2))
	facts := `[{"kind":"coding","detail":"H0043 U6 (CS CS01) in force 2022-01-01..open; coding table row 14"},{"kind":"span","detail":"834 span 2025-01-01..open plan 010 status 01 aid codes 1H county 38"}]`
	start := time.Now()
	for id := 1; id <= files; id++ {
		// Spread evenly over the span, the newest last (in float64: the
		// product of the span in nanoseconds and an ID overflows int64).
		noticed := now.Add(-span + time.Duration(float64(span)*float64(id)/float64(files)))
		f := fileRow{id: id, noticed: noticed, kind: "invoice", state: "archived", note: "10 lines accepted"}
		switch {
		case id%50 == 0:
			f.state, f.note = "quarantined", "unusable input: not an invoice file; quarantine/"+fileName(id)
		case id%10 == 0:
			f.kind, f.note = "834", "loaded"
		}
		if f.kind == "invoice" && f.state == "archived" && written < lines {
			f.run = id
		}
		if err := out.file(f); err != nil {
			return written, err
		}
		if f.run == nil {
			continue
		}
		inv := "INV" + strconv.Itoa(id)
		if err := out.claim(inv, id, inv); err != nil {
			return written, err
		}
		if err := out.interchange(id, id, fmt.Sprintf("encounters-%09d.837", id)); err != nil {
			return written, err
		}
		day := noticed.UTC().Unix() / 86400
		for seq := 1; seq <= linesPerFile && written < lines; seq++ {
			outcome, rule, msg := "accepted", "", ""
			if r.IntN(10) == 0 {
				outcome, rule, msg = "rejected", []string{"CODE-NOT-ALLOWED", "DUPLICATE-LINE", "FIELD-INVALID", "AUTH-MISSING"}[r.IntN(4)], "rejected for the benchmark"
				rejects[[2]any{day, rule}]++
			}
			if err := out.line([]any{id, seq, fileName(id), seq + 1, inv, strconv.Itoa(seq), cin(r.IntN(max(lines/10, 1))), "1456789019", "H0043 U6",
				"2026-09-01", "2026-09-01", outcome, rule, "", "", msg, facts}); err != nil {
				return written, err
			}
			written++
		}
		if id%100_000 == 0 {
			log.Printf("webbench: generated %d files, %d lines (%s)", id, written, time.Since(start).Round(time.Second))
		}
	}
	for k, n := range rejects {
		if err := out.rejects(k[0].(int64), k[1].(string), n); err != nil {
			return written, err
		}
	}
	return written, nil
}

// seeded reports whether dir's marker says it holds the seed of these
// sizes; mark writes the marker.
func seeded(dir string, files, lines int) bool {
	b, err := os.ReadFile(filepath.Join(dir, "seeded"))
	return err == nil && string(b) == marker(files, lines)
}

func mark(dir string, files, lines int) error {
	return os.WriteFile(filepath.Join(dir, "seeded"), []byte(marker(files, lines)), 0o644)
}

func marker(files, lines int) string { return fmt.Sprintf("%d %d %s\n", files, lines, seedVersion) }

// seedSQLite fills dir's SQLite store unless it already holds these sizes.
func seedSQLite(ctx context.Context, dir string, files, lines int) error {
	if seeded(dir, files, lines) {
		log.Printf("webbench: reusing the seeded store in %s", dir)
		return nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	st, err := store.OpenSQLite(ctx, dir)
	if err != nil {
		return err
	}
	st.Close()
	db, err := sql.Open("sqlite", store.SQLiteURI(filepath.Join(dir, store.FileName))+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)&_pragma=cache_size(-200000)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	start := time.Now()
	// The indexes are built after the rows, from the migrations' own
	// statements: much faster.
	idx := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('line_decisions', 'ledger_files', 'sent_claims', 'run_interchanges') AND sql IS NOT NULL`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n, s string
		if err := rows.Scan(&n, &s); err != nil {
			return err
		}
		idx[n] = s
	}
	rows.Close()
	for n := range idx {
		if _, err := db.ExecContext(ctx, `DROP INDEX `+n); err != nil {
			return err
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	sk, err := newSQLiteSink(ctx, tx)
	if err != nil {
		return err
	}
	written, err := generate(time.Now(), files, lines, sk)
	if err == nil {
		err = sk.flush()
	}
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	log.Printf("webbench: rows written in %s; building indexes", time.Since(start).Round(time.Second))
	for _, s := range idx {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		return err
	}
	log.Printf("webbench: seeded %d files and %d line decisions in %s", files, written, time.Since(start).Round(time.Second))
	return mark(dir, files, lines)
}

// sqliteSink inserts the rows in one transaction, the decisions 50 to a
// statement.
type sqliteSink struct {
	ctx                                 context.Context
	tx                                  *sql.Tx
	insFile, insLines, insClaim, insISA *sql.Stmt
	batch                               []any
}

const rowsPerInsert = 50

func newSQLiteSink(ctx context.Context, tx *sql.Tx) (*sqliteSink, error) {
	s := &sqliteSink{ctx: ctx, tx: tx}
	var err error
	if s.insFile, err = tx.PrepareContext(ctx, `INSERT INTO ledger_files(id, source, path, name, kind, size, mod_time, state, hash, run_id, run_output, outputs, note, noticed, updated)
		VALUES (?, 'inbox', ?, ?, ?, ?, ?, ?, ?, ?, '', '[]', ?, ?, ?)`); err != nil {
		return nil, err
	}
	ph := strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?),", rowsPerInsert), ",")
	if s.insLines, err = tx.PrepareContext(ctx, `INSERT INTO line_decisions(`+decisionCols+`) VALUES `+ph); err != nil {
		return nil, err
	}
	if s.insClaim, err = tx.PrepareContext(ctx, `INSERT INTO sent_claims(clm01, run_id, invoice, hcp) VALUES (?, ?, ?, '')`); err != nil {
		return nil, err
	}
	if s.insISA, err = tx.PrepareContext(ctx, `INSERT INTO run_interchanges(run_id, isa13, file) VALUES (?, ?, ?)`); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *sqliteSink) file(f fileRow) error {
	_, err := s.insFile.ExecContext(s.ctx, f.id, "archive/"+fileName(f.id), fileName(f.id), f.kind, 2048, f.noticed.UnixNano(), f.state, hash(f.id), f.run, f.note, f.noticed.UnixMilli(), f.noticed.UnixMilli())
	return err
}

func (s *sqliteSink) claim(clm01 string, run int, invoice string) error {
	_, err := s.insClaim.ExecContext(s.ctx, clm01, run, invoice)
	return err
}

func (s *sqliteSink) interchange(run, isa13 int, file string) error {
	_, err := s.insISA.ExecContext(s.ctx, run, isa13, file)
	return err
}

func (s *sqliteSink) line(vals []any) error {
	s.batch = append(s.batch, vals...)
	if len(s.batch) < rowsPerInsert*17 {
		return nil
	}
	_, err := s.insLines.ExecContext(s.ctx, s.batch...)
	s.batch = s.batch[:0]
	return err
}

func (s *sqliteSink) rejects(day int64, rule string, lines int) error {
	_, err := s.tx.ExecContext(s.ctx, `INSERT INTO reject_counts(day, rule, lines) VALUES (?, ?, ?)`, day, rule, lines)
	return err
}

// flush inserts the decisions left over from the last full statement.
func (s *sqliteSink) flush() error {
	for i := 0; i < len(s.batch); i += 17 {
		if _, err := s.tx.ExecContext(s.ctx, `INSERT INTO line_decisions(`+decisionCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`, s.batch[i:i+17]...); err != nil {
			return err
		}
	}
	s.batch = nil
	return nil
}
