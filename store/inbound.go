package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// InboundInterchange is an interchange of a provider's 837P the gateway
// received and answered.
type InboundInterchange struct {
	Sender     string    // ISA05:ISA06, trimmed
	ISA13      string    // as sent
	Sum        [32]byte  // SHA-256 of the file that held it
	File       string    // the file's base name
	ReceivedAt time.Time // when it was recorded
	// Source names the delivery of the file (the daemon's ledger entry);
	// "" for none. An interchange recorded under the same non-empty Source
	// is not a repeat: the same delivery processed again after a crash.
	Source string
	// Batch is the plan's number of the interchange's claims (9 digits,
	// the first part of each plan's claim number); "" for none.
	Batch string
}

// InboundClaim maps the plan's claim number of a claim received in an 837P
// (277CA REF*1K, and the invoice number of the encounter line it became)
// to the provider's CLM01, for tracing DHCS's answers back to the provider.
type InboundClaim struct {
	PlanClaim     string
	Sender        string // ISA05:ISA06
	ISA13         string
	ProviderClaim string // the provider's CLM01
	File          string
	Accepted      bool // accepted and forwarded as an encounter, else rejected in the 277CA
	// Lines are an accepted claim's service lines as its encounter lines
	// will be sent (Key; Invoice the plan's claim number; LineNo). They
	// are recorded as pending lines, which Run.RecordLines counts as
	// earlier lines until they are sent.
	Lines []Line
}

// InboundStore keeps the inbound 837P interchanges and claims
// (store.SQLite, store.Postgres).
type InboundStore interface {
	// RecordInbound records a file's interchanges and claims in one
	// transaction, unless one of the interchanges repeats one recorded
	// before: the same content (Sum), or the same sender and ISA13
	// received less than window before it. Then nothing is recorded and
	// the earlier interchange is returned (the first one found). The
	// claims are read as they are recorded (nil: none), so a file's claims
	// need not all be in memory.
	RecordInbound(ctx context.Context, ics []InboundInterchange, window time.Duration, claims iter.Seq[InboundClaim]) (*InboundInterchange, error)
	// InboundClaim returns the claim recorded under the plan's claim
	// number (false when none).
	InboundClaim(ctx context.Context, planClaim string) (InboundClaim, bool, error)
	// InboundBatch returns the Batch recorded for the interchange of the
	// sender and ISA13 delivered by source (false when none), so that the
	// same delivery processed again numbers its claims as before.
	InboundBatch(ctx context.Context, source, sender, isa13 string) (string, bool, error)
}

var (
	_ InboundStore = (*SQLite)(nil)
	_ InboundStore = (*Postgres)(nil)
)

// sqliteInboundMigrations and postgresInboundMigrations are the inbound
// component (sqliteComponents, postgresComponents).
var sqliteInboundMigrations = []string{
	`CREATE TABLE inbound_interchanges (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		sender      TEXT NOT NULL,
		isa13       TEXT NOT NULL,
		sum         BLOB NOT NULL,
		file        TEXT NOT NULL,
		received_at TEXT NOT NULL,
		source      TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX inbound_interchanges_control ON inbound_interchanges(sender, isa13, received_at)`,
	`CREATE INDEX inbound_interchanges_sum ON inbound_interchanges(sum)`,
	`CREATE TABLE inbound_claims (
		plan_claim     TEXT NOT NULL,
		sender         TEXT NOT NULL,
		isa13          TEXT NOT NULL,
		provider_claim TEXT NOT NULL,
		file           TEXT NOT NULL,
		accepted       INTEGER NOT NULL,
		id             INTEGER PRIMARY KEY AUTOINCREMENT
	)`,
	`CREATE INDEX inbound_claims_plan ON inbound_claims(plan_claim, id)`,
	`ALTER TABLE inbound_interchanges ADD COLUMN batch TEXT NOT NULL DEFAULT ''`,
	// Claims are recorded in blocks (claimBlockSize claims a row) since
	// this migration; inbound_claims keeps those recorded before.
	claimBlocksTable("INTEGER PRIMARY KEY AUTOINCREMENT", "BLOB"),
	`CREATE INDEX inbound_claim_blocks_batch ON inbound_claim_blocks(batch, first_claim)`,
}

// claimBlocksTable creates inbound_claim_blocks with the engine's key and
// blob types.
func claimBlocksTable(id, blob string) string {
	return `CREATE TABLE inbound_claim_blocks (
		id          ` + id + `,
		batch       TEXT NOT NULL,
		first_claim TEXT NOT NULL,
		last_claim  TEXT NOT NULL,
		sender      TEXT NOT NULL,
		isa13       TEXT NOT NULL,
		file        TEXT NOT NULL,
		claims      ` + blob + ` NOT NULL
	)`
}

var postgresInboundMigrations = []string{
	`CREATE TABLE inbound_interchanges (
		id          BIGSERIAL PRIMARY KEY,
		sender      TEXT NOT NULL,
		isa13       TEXT NOT NULL,
		sum         BYTEA NOT NULL,
		file        TEXT NOT NULL,
		received_at TIMESTAMPTZ NOT NULL,
		source      TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX inbound_interchanges_control ON inbound_interchanges(sender, isa13, received_at)`,
	`CREATE INDEX inbound_interchanges_sum ON inbound_interchanges(sum)`,
	`CREATE TABLE inbound_claims (
		id             BIGSERIAL PRIMARY KEY,
		plan_claim     TEXT NOT NULL,
		sender         TEXT NOT NULL,
		isa13          TEXT NOT NULL,
		provider_claim TEXT NOT NULL,
		file           TEXT NOT NULL,
		accepted       BOOLEAN NOT NULL
	)`,
	`CREATE INDEX inbound_claims_plan ON inbound_claims(plan_claim, id)`,
	`ALTER TABLE inbound_interchanges ADD COLUMN batch TEXT NOT NULL DEFAULT ''`,
	claimBlocksTable("BIGSERIAL PRIMARY KEY", "BYTEA"),
	`CREATE INDEX inbound_claim_blocks_batch ON inbound_claim_blocks(batch, first_claim)`,
}

// claimBlockSize is how many claims one row of inbound_claim_blocks
// holds at most. A claim costs a few bytes of its row's blob instead of a
// row and an index entry of its own: recording a file's claims is then a
// small part of its ingest, and a look-up decodes one block.
const claimBlockSize = 4096

// claimBlock is consecutive claims of one interchange (the same batch,
// the first 9 characters of their plan's claim numbers, sender, ISA13 and
// file): a row of inbound_claim_blocks. Each claim is, in its data, its
// plan's claim number and the provider's CLM01 (each a uvarint length
// and the bytes) and whether it was accepted (a byte, 1 or 0).
type claimBlock struct {
	batch, first, last, sender, isa13, file string
	data                                    []byte
	n                                       int
}

// claimBatch is the batch of a plan's claim number: its first 9 characters.
func claimBatch(plan string) string { return plan[:min(len(plan), 9)] }

// claimBlocks groups claims into blocks and hands each to emit.
type claimBlocks struct {
	cur  claimBlock
	emit func(*claimBlock) error
}

func (w *claimBlocks) add(c *InboundClaim) error {
	b := claimBatch(c.PlanClaim)
	if w.cur.n > 0 && (w.cur.n == claimBlockSize || b != w.cur.batch || c.Sender != w.cur.sender || c.ISA13 != w.cur.isa13 || c.File != w.cur.file) {
		if err := w.flush(); err != nil {
			return err
		}
	}
	if w.cur.n == 0 {
		w.cur = claimBlock{batch: b, first: c.PlanClaim, last: c.PlanClaim, sender: c.Sender, isa13: c.ISA13, file: c.File, data: w.cur.data[:0]}
	}
	w.cur.first, w.cur.last = min(w.cur.first, c.PlanClaim), max(w.cur.last, c.PlanClaim)
	d := binary.AppendUvarint(w.cur.data, uint64(len(c.PlanClaim)))
	d = append(d, c.PlanClaim...)
	d = binary.AppendUvarint(d, uint64(len(c.ProviderClaim)))
	d = append(d, c.ProviderClaim...)
	a := byte(0)
	if c.Accepted {
		a = 1
	}
	w.cur.data = append(d, a)
	w.cur.n++
	return nil
}

func (w *claimBlocks) flush() error {
	if w.cur.n == 0 {
		return nil
	}
	err := w.emit(&w.cur)
	w.cur.n = 0
	return err
}

// find returns the claim of the block under plan (the last one, should
// it be there twice); false when none.
func (b *claimBlock) find(plan string) (InboundClaim, bool, error) {
	var c InboundClaim
	found := false
	d := b.data
	next := func() (string, bool) {
		n, w := binary.Uvarint(d)
		if w <= 0 || uint64(len(d)-w) < n {
			return "", false
		}
		v := string(d[w : w+int(n)])
		d = d[w+int(n):]
		return v, true
	}
	for len(d) > 0 {
		p, ok1 := next()
		prov, ok2 := next()
		if !ok1 || !ok2 || len(d) == 0 {
			return InboundClaim{}, false, fmt.Errorf("store: a block of inbound claims of %s is cut short", b.batch)
		}
		acc := d[0] == 1
		d = d[1:]
		if p == plan {
			c = InboundClaim{PlanClaim: p, Sender: b.sender, ISA13: b.isa13, ProviderClaim: prov, File: b.file, Accepted: acc}
			found = true
		}
	}
	return c, found, nil
}

// selectClaimBlocks lists the blocks that may hold a plan's claim number,
// the latest recorded first; %s is its placeholder.
const selectClaimBlocks = `SELECT sender, isa13, file, claims FROM inbound_claim_blocks
	WHERE batch = substr(CAST(%[1]s AS TEXT), 1, 9) AND first_claim <= %[1]s AND last_claim >= %[1]s ORDER BY id DESC`

// findInBlocks returns the claim of plan from rows of selectClaimBlocks.
func findInBlocks(rows resultRows, plan string) (InboundClaim, bool, error) {
	for rows.Next() {
		var b claimBlock
		if err := rows.Scan(&b.sender, &b.isa13, &b.file, &b.data); err != nil {
			return InboundClaim{}, false, fmt.Errorf("store: inbound claim: %w", err)
		}
		b.batch = claimBatch(plan)
		if c, ok, err := b.find(plan); err != nil || ok {
			return c, ok, err
		}
	}
	if err := rows.Err(); err != nil {
		return InboundClaim{}, false, fmt.Errorf("store: inbound claim: %w", err)
	}
	return InboundClaim{}, false, nil
}

const selectInboundPrior = `SELECT sender, isa13, sum, file, received_at, source FROM inbound_interchanges
	WHERE (sum = %[1]s OR (sender = %[2]s AND isa13 = %[3]s AND received_at > %[4]s)) AND (%[5]s = '' OR source <> %[5]s) ORDER BY id LIMIT 1`

// RecordInbound implements InboundStore. The write transaction starts
// with a write, so that two recordings of one interchange are serialized.
//
// Its connection keeps a small page cache (smallCacheConn) while it
// records: the claims go in key order and the pending lines are sorted
// first (sqliteInsertClaims), so a large file's need no more, and memory
// stays about the same however large the file.
func (s *SQLite) RecordInbound(ctx context.Context, ics []InboundInterchange, window time.Duration, claims iter.Seq[InboundClaim]) (*InboundInterchange, error) {
	conn, release, err := s.smallCacheConn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: record inbound: %w", err)
	}
	defer release()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: record inbound: %w", err)
	}
	defer tx.Rollback()
	// Take the write lock first: the check below then sees every
	// interchange committed before.
	if _, err := tx.ExecContext(ctx, `DELETE FROM inbound_interchanges WHERE id < 0`); err != nil {
		return nil, fmt.Errorf("store: record inbound: %w", err)
	}
	q := fmt.Sprintf(selectInboundPrior, "?1", "?2", "?3", "?4", "?5")
	for _, ic := range ics {
		var p InboundInterchange
		var sum []byte
		var at string
		err := tx.QueryRowContext(ctx, q, ic.Sum[:], ic.Sender, ic.ISA13, ic.ReceivedAt.Add(-window).UTC().Format(time.RFC3339Nano), ic.Source).
			Scan(&p.Sender, &p.ISA13, &sum, &p.File, &at, &p.Source)
		if err == nil {
			copy(p.Sum[:], sum)
			p.ReceivedAt, _ = time.Parse(time.RFC3339Nano, at)
			return &p, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store: record inbound: %w", err)
		}
	}
	for _, ic := range ics {
		if _, err := tx.ExecContext(ctx, `INSERT INTO inbound_interchanges(sender, isa13, sum, file, received_at, source, batch) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			ic.Sender, ic.ISA13, ic.Sum[:], ic.File, ic.ReceivedAt.UTC().Format(time.RFC3339Nano), ic.Source, ic.Batch); err != nil {
			return nil, fmt.Errorf("store: record inbound interchange: %w", err)
		}
	}
	if claims != nil {
		if err := sqliteInsertClaims(ctx, tx, claims); err != nil {
			return nil, fmt.Errorf("store: record inbound claim: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: record inbound: %w", err)
	}
	return nil, nil
}

// rowsPerInsert is how many rows one SQLite INSERT statement carries.
const rowsPerInsert = 100

// sqliteBatch inserts rows rowsPerInsert per statement (a prepared
// statement for full batches, one more for the rest): a row per statement
// costs several times more.
type sqliteBatch struct {
	tx         *sql.Tx
	head, tail string // the statement before and after its VALUES rows
	cols       int
	full       *sql.Stmt
	args       []any
}

func newSQLiteBatch(tx *sql.Tx, head, tail string, cols int) *sqliteBatch {
	return &sqliteBatch{tx: tx, head: head, tail: tail, cols: cols, args: make([]any, 0, cols*rowsPerInsert)}
}

func (b *sqliteBatch) statement(n int) string {
	var s strings.Builder
	s.WriteString(b.head)
	row := "(?" + strings.Repeat(", ?", b.cols-1) + ")"
	for i := range n {
		if i > 0 {
			s.WriteByte(',')
		}
		s.WriteString(row)
	}
	s.WriteString(b.tail)
	return s.String()
}

func (b *sqliteBatch) add(ctx context.Context, row ...any) error {
	b.args = append(b.args, row...)
	if len(b.args) == cap(b.args) {
		return b.flush(ctx)
	}
	return nil
}

func (b *sqliteBatch) flush(ctx context.Context) error {
	n := len(b.args) / b.cols
	if n == 0 {
		return nil
	}
	var err error
	if n == rowsPerInsert {
		if b.full == nil {
			if b.full, err = b.tx.PrepareContext(ctx, b.statement(n)); err != nil {
				return err
			}
		}
		_, err = b.full.ExecContext(ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(ctx, b.statement(n), b.args...)
	}
	b.args = b.args[:0]
	return err
}

func (b *sqliteBatch) close() {
	if b.full != nil {
		b.full.Close()
	}
}

// sqliteInsertClaims inserts the claims and their pending lines. The
// pending lines' keys are random: they go first to a temporary table in
// arrival order, then into pending_lines in key order through SQLite's
// sorter (which spills to temporary files), since a B-tree takes keys in
// order several times faster than at random, and memory stays bounded.
func sqliteInsertClaims(ctx context.Context, tx *sql.Tx, claims iter.Seq[InboundClaim]) error {
	blocks := claimBlocks{emit: func(b *claimBlock) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO inbound_claim_blocks(batch, first_claim, last_claim, sender, isa13, file, claims) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			b.batch, b.first, b.last, b.sender, b.isa13, b.file, b.data)
		return err
	}}
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS pending_stage (key_hi INTEGER, key_lo INTEGER, invoice TEXT, line_no TEXT)`); err != nil {
		return err
	}
	lb := newSQLiteBatch(tx, `INSERT INTO temp.pending_stage(key_hi, key_lo, invoice, line_no) VALUES `, ``, 4)
	defer lb.close()
	ub := newSQLiteBatch(tx, `INSERT INTO pending_usage(key_hi, key_lo, counter, amount, first) VALUES `, ``, 5)
	defer ub.close()
	staged := false
	for c := range claims {
		if err := blocks.add(&c); err != nil {
			return err
		}
		for _, l := range c.Lines {
			staged = true
			hi, lo := l.halves()
			if err := lb.add(ctx, hi, lo, l.Invoice, l.LineNo); err != nil {
				return err
			}
			for _, u := range l.Uses {
				if err := ub.add(ctx, hi, lo, u.Counter, u.Amount, int64(u.Date)); err != nil {
					return err
				}
			}
		}
	}
	if err := blocks.flush(); err != nil {
		return err
	}
	if err := lb.flush(ctx); err != nil {
		return err
	}
	if err := ub.flush(ctx); err != nil {
		return err
	}
	if staged {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pending_lines(key_hi, key_lo, invoice, line_no)
			SELECT key_hi, key_lo, invoice, line_no FROM temp.pending_stage ORDER BY key_hi ON CONFLICT DO NOTHING`); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM temp.pending_stage`)
	return err
}

const selectInboundClaim = `SELECT plan_claim, sender, isa13, provider_claim, file, accepted FROM inbound_claims
	WHERE plan_claim = %s ORDER BY id DESC LIMIT 1`

// inboundClaim is InboundStore.InboundClaim on either engine: the latest
// claim recorded under the number (the blocks are later than
// inbound_claims' rows).
func (l *fileLedger) inboundClaim(ctx context.Context, planClaim string) (InboundClaim, bool, error) {
	rows, err := l.conn.query(ctx, fmt.Sprintf(selectClaimBlocks, "$1"), planClaim)
	if err != nil {
		return InboundClaim{}, false, fmt.Errorf("store: inbound claim: %w", err)
	}
	c, ok, err := findInBlocks(rows, planClaim)
	rows.Close()
	if err != nil || ok {
		return c, ok, err
	}
	err = l.conn.queryRow(ctx, fmt.Sprintf(selectInboundClaim, "$1"), planClaim).
		Scan(&c.PlanClaim, &c.Sender, &c.ISA13, &c.ProviderClaim, &c.File, &c.Accepted)
	if errors.Is(err, sql.ErrNoRows) {
		return InboundClaim{}, false, nil
	}
	if err != nil {
		return InboundClaim{}, false, fmt.Errorf("store: inbound claim: %w", err)
	}
	return c, true, nil
}

// InboundClaim implements InboundStore.
func (s *SQLite) InboundClaim(ctx context.Context, planClaim string) (InboundClaim, bool, error) {
	return s.inboundClaim(ctx, planClaim)
}

// RecordInbound implements InboundStore. A transaction-scoped advisory
// lock serializes the recordings, so that two instances receiving one
// interchange at once record it once.
func (p *Postgres) RecordInbound(ctx context.Context, ics []InboundInterchange, window time.Duration, claims iter.Seq[InboundClaim]) (*InboundInterchange, error) {
	var prior *InboundInterchange
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('calgw inbound_interchanges'))`); err != nil {
			return err
		}
		q := fmt.Sprintf(selectInboundPrior, "$1", "$2", "$3", "$4", "$5")
		for _, ic := range ics {
			var pr InboundInterchange
			var sum []byte
			err := tx.QueryRow(ctx, q, ic.Sum[:], ic.Sender, ic.ISA13, ic.ReceivedAt.Add(-window), ic.Source).
				Scan(&pr.Sender, &pr.ISA13, &sum, &pr.File, &pr.ReceivedAt, &pr.Source)
			if err == nil {
				copy(pr.Sum[:], sum)
				prior = &pr
				return nil
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				return err
			}
		}
		var b pgx.Batch
		for _, ic := range ics {
			b.Queue(`INSERT INTO inbound_interchanges(sender, isa13, sum, file, received_at, source, batch) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				ic.Sender, ic.ISA13, ic.Sum[:], ic.File, ic.ReceivedAt, ic.Source, ic.Batch)
		}
		if err := tx.SendBatch(ctx, &b).Close(); err != nil {
			return err
		}
		if claims == nil {
			return nil
		}
		// The claims go in blocks (claimBlocks), sent at most 8 blocks or
		// 4096 pending lines at a time, so that a large file's are never
		// all in memory.
		var err error
		b = pgx.Batch{}
		send := func() {
			if err == nil && b.Len() > 0 {
				err = tx.SendBatch(ctx, &b).Close()
			}
			b = pgx.Batch{}
		}
		var keys, useKeys []pgtype.UUID
		var invoices, lineNos, counters []string
		var amounts, firsts []int64
		queueLines := func() {
			if len(keys) > 0 {
				b.Queue(`INSERT INTO pending_lines(key, invoice, line_no) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[]) ON CONFLICT DO NOTHING`,
					keys, invoices, lineNos)
				keys, invoices, lineNos = nil, nil, nil
			}
			if len(useKeys) > 0 {
				b.Queue(`INSERT INTO pending_usage(key, counter, amount, first) SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::bigint[])`,
					useKeys, counters, amounts, firsts)
				useKeys, counters, amounts, firsts = nil, nil, nil, nil
			}
		}
		blocks := claimBlocks{emit: func(cb *claimBlock) error {
			b.Queue(`INSERT INTO inbound_claim_blocks(batch, first_claim, last_claim, sender, isa13, file, claims) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
				cb.batch, cb.first, cb.last, cb.sender, cb.isa13, cb.file, slices.Clone(cb.data))
			return nil
		}}
		for c := range claims {
			blocks.add(&c) // emit queues the block and cannot fail
			for _, l := range c.Lines {
				keys = append(keys, pgtype.UUID{Bytes: l.Key, Valid: true})
				invoices, lineNos = append(invoices, l.Invoice), append(lineNos, l.LineNo)
				for _, u := range l.Uses {
					useKeys, counters = append(useKeys, pgtype.UUID{Bytes: l.Key, Valid: true}), append(counters, u.Counter)
					amounts, firsts = append(amounts, u.Amount), append(firsts, int64(u.Date))
				}
			}
			if b.Len() >= 8 || len(keys) >= 4096 {
				queueLines()
				send()
				if err != nil {
					break
				}
			}
		}
		blocks.flush() // cannot fail, as above
		queueLines()
		send()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: record inbound: %w", err)
	}
	return prior, nil
}

// InboundClaim implements InboundStore.
func (p *Postgres) InboundClaim(ctx context.Context, planClaim string) (InboundClaim, bool, error) {
	return p.inboundClaim(ctx, planClaim)
}

// inboundBatch is InboundStore.InboundBatch on either engine: an
// interchange's claim batch number, found by its delivery.
func (l *fileLedger) inboundBatch(ctx context.Context, source, sender, isa13 string) (string, bool, error) {
	var b string
	err := l.conn.queryRow(ctx, `SELECT batch FROM inbound_interchanges
		WHERE sender = $1 AND isa13 = $2 AND source = $3 AND batch <> '' ORDER BY id DESC LIMIT 1`, sender, isa13, source).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: inbound batch: %w", err)
	}
	return b, true, nil
}

// InboundBatch implements InboundStore.
func (s *SQLite) InboundBatch(ctx context.Context, source, sender, isa13 string) (string, bool, error) {
	return s.inboundBatch(ctx, source, sender, isa13)
}

// InboundBatch implements InboundStore.
func (p *Postgres) InboundBatch(ctx context.Context, source, sender, isa13 string) (string, bool, error) {
	return p.inboundBatch(ctx, source, sender, isa13)
}

// PendingBatch sums up the lines still waiting to be sent of the claims
// one interchange's 277CA accepted.
type PendingBatch struct {
	// Batch is the first 9 digits of the claims' plan's claim numbers: the
	// plan's number of the interchange's claims.
	Batch      string
	File       string    // the inbound file's base name ("" when no claim is recorded under the numbers)
	Sender     string    // ISA05:ISA06
	ISA13      string    // the interchange's own control number
	ReceivedAt time.Time // zero when unknown
	Claims     int
	Lines      int
}

// PendingStore lists and releases pending lines by the interchange that
// sent them (store.SQLite, store.Postgres).
type PendingStore interface {
	// PendingBatches lists the batches with lines pending, the oldest
	// received first.
	PendingBatches(ctx context.Context) ([]PendingBatch, error)
	// ReleasePending ends the pending state of every line of the batch's
	// claims, so that they no longer count as earlier lines, and returns
	// how many lines it released.
	ReleasePending(ctx context.Context, batch string) (int, error)
}

var (
	_ PendingStore = (*SQLite)(nil)
	_ PendingStore = (*Postgres)(nil)
)

// Pending lines grouped by batch, then each batch's interchange, found
// through the latest claim recorded under one of its numbers.
const (
	selectPendingBatches = `SELECT substr(invoice, 1, 9), MIN(invoice), COUNT(DISTINCT invoice), COUNT(*)
		FROM pending_lines GROUP BY substr(invoice, 1, 9)`
	selectBatchInterchange = `SELECT file, sender, isa13, received_at FROM (
		SELECT 0 AS o, b.id AS cid, i.id AS iid, b.file, b.sender, b.isa13, i.received_at FROM inbound_claim_blocks b
			LEFT JOIN inbound_interchanges i ON i.sender = b.sender AND i.isa13 = b.isa13 AND i.file = b.file
			WHERE b.batch = substr(CAST(%[1]s AS TEXT), 1, 9) AND b.first_claim <= %[1]s AND b.last_claim >= %[1]s
		UNION ALL
		SELECT 1, c.id, i.id, c.file, c.sender, c.isa13, i.received_at FROM inbound_claims c
			LEFT JOIN inbound_interchanges i ON i.sender = c.sender AND i.isa13 = c.isa13 AND i.file = c.file
			WHERE c.plan_claim = %[1]s
	) AS f ORDER BY o, cid DESC, iid DESC LIMIT 1`
	deletePendingBatch = `DELETE FROM pending_lines WHERE substr(invoice, 1, 9) = %s`
)

// validBatch says whether b is a batch number: 9 digits.
func validBatch(b string) error {
	if len(b) != 9 || strings.Trim(b, "0123456789") != "" {
		return fmt.Errorf("store: %q is not a claim batch number (9 digits, the start of the plan's claim numbers)", b)
	}
	return nil
}

// sortBatches orders batches the oldest received first (unknown times
// last), then by number.
func sortBatches(bs []PendingBatch) {
	slices.SortFunc(bs, func(a, b PendingBatch) int {
		if az, bz := a.ReceivedAt.IsZero(), b.ReceivedAt.IsZero(); az != bz {
			if az {
				return 1
			}
			return -1
		}
		return cmp.Or(a.ReceivedAt.Compare(b.ReceivedAt), strings.Compare(a.Batch, b.Batch))
	})
}

// PendingBatches implements PendingStore.
func (s *SQLite) PendingBatches(ctx context.Context) ([]PendingBatch, error) {
	rows, err := s.db.QueryContext(ctx, selectPendingBatches)
	if err != nil {
		return nil, fmt.Errorf("store: pending batches: %w", err)
	}
	bs, samples, err := readBatches(rows)
	rows.Close()
	if err != nil {
		return nil, err
	}
	for i := range bs {
		var at sql.NullString
		b := &bs[i]
		err := s.db.QueryRowContext(ctx, fmt.Sprintf(selectBatchInterchange, "?1"), samples[i]).Scan(&b.File, &b.Sender, &b.ISA13, &at)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("store: pending batch %s: %w", b.Batch, err)
		}
		b.ReceivedAt, _ = time.Parse(time.RFC3339Nano, at.String)
	}
	sortBatches(bs)
	return bs, nil
}

// readBatches reads selectPendingBatches on either engine: the batches
// and a claim number of each.
func readBatches(rows resultRows) ([]PendingBatch, []string, error) {
	var bs []PendingBatch
	var samples []string
	for rows.Next() {
		var b PendingBatch
		var sample string
		var claims, lines int64
		if err := rows.Scan(&b.Batch, &sample, &claims, &lines); err != nil {
			return nil, nil, fmt.Errorf("store: pending batches: %w", err)
		}
		b.Claims, b.Lines = int(claims), int(lines)
		bs, samples = append(bs, b), append(samples, sample)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("store: pending batches: %w", err)
	}
	return bs, samples, nil
}

// ReleasePending implements PendingStore.
func (s *SQLite) ReleasePending(ctx context.Context, batch string) (int, error) {
	if err := validBatch(batch); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx, fmt.Sprintf(deletePendingBatch, "?"), batch)
	if err != nil {
		return 0, fmt.Errorf("store: release pending batch %s: %w", batch, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// PendingBatches implements PendingStore.
func (p *Postgres) PendingBatches(ctx context.Context) ([]PendingBatch, error) {
	rows, err := p.pool.Query(ctx, selectPendingBatches)
	if err != nil {
		return nil, fmt.Errorf("store: pending batches: %w", err)
	}
	bs, samples, err := readBatches(rows)
	rows.Close()
	if err != nil {
		return nil, err
	}
	for i := range bs {
		var at *time.Time
		b := &bs[i]
		err := p.pool.QueryRow(ctx, fmt.Sprintf(selectBatchInterchange, "$1"), samples[i]).Scan(&b.File, &b.Sender, &b.ISA13, &at)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, fmt.Errorf("store: pending batch %s: %w", b.Batch, err)
		}
		if at != nil {
			b.ReceivedAt = at.UTC()
		}
	}
	sortBatches(bs)
	return bs, nil
}

// ReleasePending implements PendingStore.
func (p *Postgres) ReleasePending(ctx context.Context, batch string) (int, error) {
	if err := validBatch(batch); err != nil {
		return 0, err
	}
	tag, err := p.pool.Exec(ctx, fmt.Sprintf(deletePendingBatch, "$1"), batch)
	if err != nil {
		return 0, fmt.Errorf("store: release pending batch %s: %w", batch, err)
	}
	return int(tag.RowsAffected()), nil
}
