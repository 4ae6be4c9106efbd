package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// SentClaim is an 837P claim sent to DHCS, by its CLM01, with the DHCS
// Encounter ID once DHCS reports it (277CA REF*1K, or the EVR EncounterId;
// docs/sources/dhcs-observed-formats.md B2.3 [S], B4 [P]). A replacement or
// void reuses the original CLM01 and carries that ID in 2300 REF*F8.
type SentClaim struct {
	CLM01       string
	Run         int64
	Invoice     string // the invoice number the claim was made from
	HCP         string // the HCP code of the file it went in
	EncounterID string // "" until DHCS reports it
	Status      string // the last DHCS status reported (e.g. F1:20, F2:54)
	Latest      string // the status of the CLM01's latest submission (EncounterSent, ...); "" when none is recorded
	// LatestFrequency is the CLM05-3 of the CLM01's latest submission: 1
	// original, 7 replacement, 8 void; "" when none is recorded.
	LatestFrequency string
	// BillingNPI is the claim's billing provider (2010AA NPI); "" for an
	// original recorded before the store kept it.
	BillingNPI string
	// Lines are the claim's service lines under their duplicate keys,
	// recorded with the submission (RecordClaims): the keys a correction
	// of the CLM01 gives way to or takes.
	Lines []Line
	// Correction: the claim corrects an earlier submission of its CLM01
	// (a replacement, a void, or a replacement sent again as an original,
	// CLM05-3 1); RecordClaims records its lines' keys as sent.
	Correction bool

	// Where it went (RecordClaims records each claim written, originals,
	// replacements and voids, as a Submission).
	Frequency   string // CLM05-3: "" or 1 original, 7 replacement, 8 void
	File        string // the 837's base name
	Sender      string // ISA06
	GroupSender string // GS02
	ISA13       int64
	GS06        int64
	ST02        int64
	Sent        string // the day it was written, YYYY-MM-DD
}

// ClaimStore keeps the claims sent and their DHCS Encounter IDs
// (store.SQLite, store.Postgres).
type ClaimStore interface {
	// RecordClaims records claims as sent by an open run: they are kept
	// only if the run is Written. Each is a submission (EncounterStore);
	// an original is also the CLM01's record, which a replacement or void
	// of it does not change. A correction's lines are recorded as sent
	// under their keys (for the run: AbortRun forgets them), beside its
	// CLM01's keys sent before; see reconcileKeys for when those give way.
	RecordClaims(ctx context.Context, run Run, claims []SentClaim) error
	// SentClaim returns the original claim sent for billingNPI (any
	// provider when "") whose CLM01 is ref, else the latest whose invoice
	// number is ref, and how many claims ref names: 0 (none), 1, or more
	// when the invoice became several claims in its latest run (one per
	// member, rendering provider or 50 lines). A claim recorded before its
	// billing NPI was kept matches any provider.
	SentClaim(ctx context.Context, ref, billingNPI string) (c SentClaim, claims int, err error)
}

var (
	_ ClaimStore = (*SQLite)(nil)
	_ ClaimStore = (*Postgres)(nil)
)

// sqliteClaimsMigrations and postgresClaimsMigrations are the claims
// component (sqliteComponents, postgresComponents).
var sqliteClaimsMigrations = []string{
	`CREATE TABLE sent_claims (
		clm01        TEXT PRIMARY KEY,
		run_id       INTEGER NOT NULL,
		invoice      TEXT NOT NULL,
		hcp          TEXT NOT NULL,
		encounter_id TEXT NOT NULL DEFAULT '',
		status       TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX sent_claims_invoice ON sent_claims(invoice, run_id)`,
	`CREATE TABLE encounter_submissions (id INTEGER PRIMARY KEY AUTOINCREMENT,` + encounterSubmissionsColumns,
	`CREATE INDEX encounter_submissions_clm01 ON encounter_submissions(clm01, id)`,
	`CREATE INDEX encounter_submissions_set ON encounter_submissions(gs06, st02)`,
	// The billing provider's NPI: a correction names its original within
	// its own provider's claims.
	`ALTER TABLE sent_claims ADD COLUMN billing_npi TEXT NOT NULL DEFAULT ''`,
	// The submission's lines under their duplicate keys (encodeLines).
	`ALTER TABLE encounter_submissions ADD COLUMN lines TEXT NOT NULL DEFAULT ''`,
}

var postgresClaimsMigrations = []string{
	`CREATE TABLE sent_claims (
		clm01        TEXT PRIMARY KEY,
		run_id       BIGINT NOT NULL,
		invoice      TEXT NOT NULL,
		hcp          TEXT NOT NULL,
		encounter_id TEXT NOT NULL DEFAULT '',
		status       TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX sent_claims_invoice ON sent_claims(invoice, run_id)`,
	`CREATE TABLE encounter_submissions (id BIGSERIAL PRIMARY KEY,` + encounterSubmissionsColumns,
	`CREATE INDEX encounter_submissions_clm01 ON encounter_submissions(clm01, id)`,
	`CREATE INDEX encounter_submissions_set ON encounter_submissions(gs06, st02)`,
	`ALTER TABLE sent_claims ADD COLUMN billing_npi TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE encounter_submissions ADD COLUMN lines TEXT NOT NULL DEFAULT ''`,
}

const (
	insertClaimSQLite = `INSERT INTO sent_claims(clm01, run_id, invoice, hcp, billing_npi) VALUES (?, ?, ?, ?, ?) ON CONFLICT(clm01) DO NOTHING`
	insertClaimPG     = `INSERT INTO sent_claims(clm01, run_id, invoice, hcp, billing_npi) VALUES ($1, $2, $3, $4, $5) ON CONFLICT(clm01) DO NOTHING`
	// selectClaim finds the claims of %[1]s (the reference) for the
	// billing NPI %[2]s: by CLM01 first (rank 0), else by invoice number
	// (rank 1), latest run first; a caller reads two rows to tell an
	// invoice that became several claims.
	selectClaim = `SELECT clm01, run_id, invoice, hcp, encounter_id, status,
		COALESCE((SELECT e.status FROM encounter_submissions e WHERE e.clm01 = c.clm01 ORDER BY e.id DESC LIMIT 1), ''),
		COALESCE((SELECT e.frequency FROM encounter_submissions e WHERE e.clm01 = c.clm01 ORDER BY e.id DESC LIMIT 1), ''), billing_npi,
		CASE WHEN clm01 = %[1]s THEN 0 ELSE 1 END AS rank
		FROM sent_claims c WHERE (clm01 = %[1]s OR invoice = %[1]s) AND (%[2]s = '' OR billing_npi = %[2]s OR billing_npi = '')
		ORDER BY rank, run_id DESC, clm01 LIMIT 2`
)

// sentClaimOf reads the rows of selectClaim: the claim ref names and how
// many it names (a second row of the same rank and run is another claim
// of the invoice).
func sentClaimOf(ref string, next func() bool, scan func(dest ...any) error) (SentClaim, int, error) {
	var c SentClaim
	var rank int
	n := 0
	for next() {
		var d SentClaim
		var r int
		if err := scan(&d.CLM01, &d.Run, &d.Invoice, &d.HCP, &d.EncounterID, &d.Status, &d.Latest, &d.LatestFrequency, &d.BillingNPI, &r); err != nil {
			return c, 0, fmt.Errorf("store: sent claim %s: %w", ref, err)
		}
		switch {
		case n == 0:
			c, rank, n = d, r, 1
		case r == rank && r == 1 && d.Run == c.Run:
			n++
		}
	}
	return c, n, nil
}

// RecordClaims implements ClaimStore for a run of the SQLite store.
func (s *SQLite) RecordClaims(ctx context.Context, run Run, claims []SentClaim) error {
	r, ok := run.(*sqliteRun)
	if !ok || r.done {
		return fmt.Errorf("%w: not an open SQLite run", ErrNoRun)
	}
	tx := sqliteClaimsTx{r.conn}
	for _, c := range claims {
		if err := recordSubmission(ctx, tx, r.id, c); err != nil {
			return err
		}
		if !original(c) {
			continue
		}
		if _, err := r.conn.ExecContext(ctx, insertClaimSQLite, c.CLM01, r.id, c.Invoice, c.HCP, c.BillingNPI); err != nil {
			return fmt.Errorf("store: record claim %s: %w", c.CLM01, err)
		}
	}
	return recordCorrectionKeys(ctx, tx, r.id, claims)
}

// SentClaim implements ClaimStore.
func (s *SQLite) SentClaim(ctx context.Context, ref, billingNPI string) (SentClaim, int, error) {
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(selectClaim, "?1", "?2"), ref, billingNPI)
	if err != nil {
		return SentClaim{}, 0, fmt.Errorf("store: sent claim %s: %w", ref, err)
	}
	defer rows.Close()
	c, n, err := sentClaimOf(ref, rows.Next, rows.Scan)
	if err == nil {
		err = rows.Err()
	}
	return c, n, err
}

// RecordClaims implements ClaimStore for a run of the PostgreSQL store.
func (p *Postgres) RecordClaims(ctx context.Context, run Run, claims []SentClaim) error {
	r, ok := run.(*pgRun)
	if !ok {
		return fmt.Errorf("%w: not a PostgreSQL run", ErrNoRun)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	// One round trip for a chunk of claims' statements, not one each.
	insert := dollars(insertSubmission)
	for start := 0; start < len(claims); start += pgBatchRows {
		var b pgx.Batch
		var of []string // the CLM01 of each statement queued
		for i := start; i < min(start+pgBatchRows, len(claims)); i++ {
			c := &claims[i]
			b.Queue(insert, submissionArgs(r.id, c)...)
			of = append(of, c.CLM01)
			if original(*c) {
				b.Queue(insertClaimPG, c.CLM01, r.id, c.Invoice, c.HCP, c.BillingNPI)
				of = append(of, c.CLM01)
			}
		}
		if err := execBatch(ctx, r.tx, &b, func(i int) string { return "store: record claim " + of[i] }); err != nil {
			return err
		}
	}
	// The lines RecordLines queued go in first: a correction's key then
	// finds them, as it finds the lines of earlier runs.
	if err := r.flush(ctx); err != nil {
		return err
	}
	return recordCorrectionKeys(ctx, pgClaimsTx{r.tx}, r.id, claims)
}

// pgBatchRows is how many rows' statements one PostgreSQL batch carries.
const pgBatchRows = 1024

// execBatch sends b's statements in one round trip inside tx; a failed
// statement's error is wrapped with what names it (the i-th queued).
func execBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch, name func(i int) string) error {
	if b.Len() == 0 {
		return nil
	}
	br := tx.SendBatch(ctx, b)
	for i := range b.Len() {
		if _, err := br.Exec(); err != nil {
			br.Close()
			return fmt.Errorf("%s: %w", name(i), err)
		}
	}
	return br.Close()
}

// SentClaim implements ClaimStore.
func (p *Postgres) SentClaim(ctx context.Context, ref, billingNPI string) (SentClaim, int, error) {
	rows, err := p.pool.Query(ctx, fmt.Sprintf(selectClaim, "$1::text", "$2::text"), ref, billingNPI)
	if err != nil {
		return SentClaim{}, 0, fmt.Errorf("store: sent claim %s: %w", ref, err)
	}
	defer rows.Close()
	c, n, err := sentClaimOf(ref, rows.Next, rows.Scan)
	if err == nil {
		err = rows.Err()
	}
	return c, n, err
}

// Encounter statuses: what DHCS last said of a claim submission.
const (
	EncounterSent     = "sent"     // no verdict yet (none, or only a 999 accepting its set)
	EncounterAccepted = "accepted" // 277CA F1, EVR Accepted
	EncounterRejected = "rejected" // 277CA F2 and the other rejecting categories, 999 IK5 R, EVR Rejected
)

// Submission is one claim as it went to DHCS in an 837P (an original, a
// replacement or a void) and what DHCS last answered of it.
type Submission struct {
	ID          int64
	CLM01       string
	Frequency   string // CLM05-3: 1 original, 7 replacement, 8 void
	Run         int64
	Invoice     string
	HCP         string
	File        string // the 837's base name
	ISA13       int64
	GS06        int64
	ST02        int64
	Sent        string // the day it was written, YYYY-MM-DD
	Status      string // EncounterSent, EncounterAccepted, EncounterRejected
	Ack         string // the 999's IK501 for its transaction set, "" until a 999 is loaded
	Code        string // the answer's code: 277CA STC01 (F2:54, F2:97:QC), "999 IK5 R", EVR response IDs
	Reason      string // the answer in words
	EncounterID string // the DHCS Encounter ID DHCS gave this submission
	AnsweredBy  string // the base name of the last response file that answered it
}

// ClaimAnswer is what a 277CA or an EVR says of one claim.
type ClaimAnswer struct {
	File        string // the base name of our 837 the response answers, with or without its extension; "" = not known
	CLM01       string
	Status      string // EncounterAccepted, EncounterRejected or EncounterSent (received, no verdict)
	Code        string
	Reason      string
	EncounterID string
}

// SetAnswer is what a 999 says of one transaction set of an 837P sent, or
// an EVR of a transaction or a whole file without naming its encounters.
type SetAnswer struct {
	// Receivers are the 999's ISA08 and GS03: the sender IDs of our
	// interchange (ISA06) or group (GS02).
	Receivers []string
	// File is the base name of our 837 the answer names, with or without
	// its extension (an EVR's EncounterFileName): when set, the sets are
	// those of that file, not of Receivers, and GS06 0 is every group of
	// it.
	File   string
	GS06   int64
	ST02   int64  // 0: every set of the group (a group answered by AK9 alone)
	Ack    string // IK501 (or AK901 for a group without AK2); "" (an EVR) leaves the acknowledgment as it is
	Status string // EncounterRejected, or EncounterSent when the set was accepted
	Code   string // the answer's code; "" = "999 IK5 " + Ack
	Reason string
}

// EncounterStore keeps every claim submission and what DHCS answered
// (store.SQLite, store.Postgres).
type EncounterStore interface {
	// AnswerClaims applies 277CA or EVR answers, from the response file by
	// (a base name), to the claims sent. An answer naming File goes to the
	// submission of that CLM01 in that file; else to the CLM01's latest
	// submission still without a verdict, else its latest. The CLM01's
	// Encounter ID (for REF*F8) becomes the answer's when it has one. It
	// returns, per answer, the submission answered (ID 0: none matched).
	AnswerClaims(ctx context.Context, by string, as []ClaimAnswer) ([]Submission, error)
	// AnswerSets applies 999 answers to the submissions of each
	// transaction set (matched by GS06, ST02 and the sender IDs, or by the
	// file an EVR names) and returns
	// how many claims each answered (0: the set matches nothing sent). A
	// rejected set rejects its claims; an accepted one only records the
	// acknowledgment.
	AnswerSets(ctx context.Context, by string, as []SetAnswer) ([]int, error)
	// Encounters lists, per CLM01, its latest submission when its status
	// is status ("" = any) and it was sent in month (YYYY-MM; "" = any), by
	// submission order.
	Encounters(ctx context.Context, status, month string) ([]Submission, error)
}

var (
	_ EncounterStore = (*SQLite)(nil)
	_ EncounterStore = (*Postgres)(nil)
)

// encounterSubmissionsColumns are the submissions table's columns after
// its key, in both engines.
const encounterSubmissionsColumns = `
		clm01        TEXT NOT NULL,
		frequency    TEXT NOT NULL,
		run_id       BIGINT NOT NULL,
		invoice      TEXT NOT NULL,
		hcp          TEXT NOT NULL,
		file         TEXT NOT NULL,
		isa06        TEXT NOT NULL,
		gs02         TEXT NOT NULL,
		isa13        BIGINT NOT NULL,
		gs06         BIGINT NOT NULL,
		st02         BIGINT NOT NULL,
		sent         TEXT NOT NULL,
		status       TEXT NOT NULL DEFAULT 'sent',
		ack          TEXT NOT NULL DEFAULT '',
		code         TEXT NOT NULL DEFAULT '',
		reason       TEXT NOT NULL DEFAULT '',
		encounter_id TEXT NOT NULL DEFAULT '',
		answered_by  TEXT NOT NULL DEFAULT ''
	)`

const submissionColumns = `id, clm01, frequency, run_id, invoice, hcp, file, isa13, gs06, st02, sent, status, ack, code, reason, encounter_id, answered_by`

// claimsTx is a transaction of either engine, as the answers use it.
type claimsTx interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args ...any) (claimRows, error)
	// sentControl returns the control of the line sent under key (false
	// when none is); insertSent records l as sent by run unless its key
	// is; removeSent releases key when control is the line sent under it.
	sentControl(ctx context.Context, key [16]byte) (string, bool, error)
	insertSent(ctx context.Context, run int64, l *Line) error
	removeSent(ctx context.Context, key [16]byte, control string) error
}

// claimRows are the rows of either engine (*sql.Rows through sqlRows, pgx.Rows).
type claimRows interface {
	resultRows
	Close()
}

// sqlQueryer is a *sql.Tx, or the *sql.Conn of an open SQLite run.
type sqlQueryer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

type sqliteClaimsTx struct{ tx sqlQueryer }

func (t sqliteClaimsTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

func (t sqliteClaimsTx) query(ctx context.Context, q string, args ...any) (claimRows, error) {
	rows, err := t.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

type pgClaimsTx struct{ tx pgx.Tx }

func (t pgClaimsTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, dollars(q), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (t pgClaimsTx) query(ctx context.Context, q string, args ...any) (claimRows, error) {
	return t.tx.Query(ctx, dollars(q), args...)
}

// dollars rewrites the placeholders of q for PostgreSQL: each ? as $1,
// $2, ... in order, and a numbered one, ?N, as $N.
func dollars(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] != '?' {
			b.WriteByte(q[i])
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		if j > i+1 {
			b.WriteString("$" + q[i+1:j])
			i = j - 1
			continue
		}
		n++
		b.WriteString("$" + strconv.Itoa(n))
	}
	return b.String()
}

func scanSubmission(r claimRows) (Submission, error) {
	var s Submission
	err := r.Scan(&s.ID, &s.CLM01, &s.Frequency, &s.Run, &s.Invoice, &s.HCP, &s.File, &s.ISA13, &s.GS06, &s.ST02, &s.Sent,
		&s.Status, &s.Ack, &s.Code, &s.Reason, &s.EncounterID, &s.AnsweredBy)
	return s, err
}

// querySubmissions runs q and returns every submission it selects.
func querySubmissions(ctx context.Context, tx claimsTx, q string, args ...any) ([]Submission, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Submission
	for rows.Next() {
		s, err := scanSubmission(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func original(c SentClaim) bool { return c.Frequency == "" || c.Frequency == "1" }

// recordSubmission inserts one claim sent by run.
func recordSubmission(ctx context.Context, tx claimsTx, run int64, c SentClaim) error {
	if _, err := tx.exec(ctx, insertSubmission, submissionArgs(run, &c)...); err != nil {
		return fmt.Errorf("store: record submission of claim %s: %w", c.CLM01, err)
	}
	return nil
}

const insertSubmission = `INSERT INTO encounter_submissions(clm01, frequency, run_id, invoice, hcp, file, isa06, gs02, isa13, gs06, st02, sent, lines)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// submissionArgs are insertSubmission's arguments for c sent by run.
func submissionArgs(run int64, c *SentClaim) []any {
	freq := c.Frequency
	if freq == "" {
		freq = "1"
	}
	return []any{c.CLM01, freq, run, c.Invoice, c.HCP, c.File, c.Sender, c.GroupSender, c.ISA13, c.GS06, c.ST02, c.Sent, encodeLines(c.Lines)}
}

// answerClaims implements AnswerClaims inside tx.
func answerClaims(ctx context.Context, tx claimsTx, by string, as []ClaimAnswer) ([]Submission, error) {
	out := make([]Submission, len(as))
	for i, a := range as {
		if !utf8.ValidString(a.CLM01) {
			continue // we send UTF-8 (ASCII) CLM01s only
		}
		var found []Submission
		var err error
		if a.File != "" && utf8.ValidString(a.File) {
			// The file as named, or named by its stem (a 277CA's name and the
			// EVR's EncounterFileName give our file without its extension);
			// lengths in characters, as substr counts them.
			found, err = querySubmissions(ctx, tx, `SELECT `+submissionColumns+` FROM encounter_submissions
				WHERE clm01 = ? AND (file = ? OR substr(file, 1, ?) = ?) ORDER BY id DESC LIMIT 1`, a.CLM01, a.File, utf8.RuneCountInString(a.File)+1, a.File+".")
		}
		if err == nil && len(found) == 0 {
			found, err = querySubmissions(ctx, tx, `SELECT `+submissionColumns+` FROM encounter_submissions WHERE clm01 = ?
				ORDER BY CASE WHEN status = 'sent' THEN 0 ELSE 1 END, id DESC LIMIT 1`, a.CLM01)
		}
		if err != nil {
			return nil, fmt.Errorf("store: answer to claim %s: %w", a.CLM01, err)
		}
		if len(found) == 0 {
			continue
		}
		s := found[0]
		s.Status, s.Code, s.Reason, s.AnsweredBy = a.Status, a.Code, a.Reason, by
		if a.EncounterID != "" {
			s.EncounterID = a.EncounterID
		}
		if _, err := tx.exec(ctx, `UPDATE encounter_submissions SET status = ?, code = ?, reason = ?, encounter_id = ?, answered_by = ? WHERE id = ?`,
			s.Status, s.Code, s.Reason, s.EncounterID, by, s.ID); err != nil {
			return nil, fmt.Errorf("store: answer to claim %s: %w", a.CLM01, err)
		}
		// The CLM01's Encounter ID and status follow its latest submission
		// only: a late answer to an earlier one (an EVR trailing the
		// replacement's 277CA) must not bring back a superseded ID.
		if _, err := tx.exec(ctx, `UPDATE sent_claims SET encounter_id = CASE WHEN ? = '' THEN encounter_id ELSE ? END, status = ?
			WHERE clm01 = ? AND ? = (SELECT MAX(id) FROM encounter_submissions WHERE clm01 = ?)`,
			a.EncounterID, a.EncounterID, a.Code, a.CLM01, s.ID, a.CLM01); err != nil {
			return nil, fmt.Errorf("store: encounter ID of %s: %w", a.CLM01, err)
		}
		if err := reconcileKeys(ctx, tx, s.CLM01, 0); err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// answerSets implements AnswerSets inside tx.
func answerSets(ctx context.Context, tx claimsTx, by string, as []SetAnswer) ([]int, error) {
	out := make([]int, len(as))
	for i, a := range as {
		var where string
		var args []any
		if a.File != "" {
			if !utf8.ValidString(a.File) {
				continue // names none of our files
			}
			// The file as named, or named by its stem, as answerClaims.
			where = `(file = ? OR substr(file, 1, ?) = ?) AND (? = 0 OR gs06 = ?) AND (? = 0 OR st02 = ?)`
			args = []any{a.File, utf8.RuneCountInString(a.File) + 1, a.File + ".", a.GS06, a.GS06, a.ST02, a.ST02}
		} else {
			recv := append(slices.Clone(a.Receivers), "", "")[:2]
			where = `gs06 = ? AND (? = 0 OR st02 = ?) AND (isa06 IN (?, ?) OR gs02 IN (?, ?))`
			args = []any{a.GS06, a.ST02, a.ST02, recv[0], recv[1], recv[0], recv[1]}
		}
		n, err := tx.exec(ctx, `UPDATE encounter_submissions SET ack = CASE WHEN ? = '' THEN ack ELSE ? END WHERE `+where, append([]any{a.Ack, a.Ack}, args...)...)
		if err != nil {
			return nil, fmt.Errorf("store: answer to set %d/%d: %w", a.GS06, a.ST02, err)
		}
		out[i] = int(n)
		if a.Status != EncounterRejected || n == 0 {
			continue
		}
		code := cmp.Or(a.Code, "999 IK5 "+a.Ack)
		if _, err := tx.exec(ctx, `UPDATE encounter_submissions SET status = ?, code = ?, reason = ?, answered_by = ? WHERE `+where,
			append([]any{EncounterRejected, code, a.Reason, by}, args...)...); err != nil {
			return nil, fmt.Errorf("store: answer to set %d/%d: %w", a.GS06, a.ST02, err)
		}
		// A rejected correction gives back the keys of its CLM01's
		// standing submission (a CLM01 sent once has nothing to give back).
		corrected, err := queryStrings(ctx, tx, `SELECT DISTINCT clm01 FROM encounter_submissions s WHERE `+where+`
			AND EXISTS (SELECT 1 FROM encounter_submissions o WHERE o.clm01 = s.clm01 AND o.id <> s.id)`, args...)
		if err != nil {
			return nil, fmt.Errorf("store: answer to set %d/%d: %w", a.GS06, a.ST02, err)
		}
		for _, clm01 := range corrected {
			if err := reconcileKeys(ctx, tx, clm01, 0); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

const encountersQuery = `SELECT ` + submissionColumns + ` FROM encounter_submissions s
	WHERE s.id = (SELECT MAX(l.id) FROM encounter_submissions l WHERE l.clm01 = s.clm01)
	AND (? = '' OR s.status = ?) AND (? = '' OR substr(s.sent, 1, 7) = ?) ORDER BY s.id`

// AnswerClaims implements EncounterStore.
func (s *SQLite) AnswerClaims(ctx context.Context, by string, as []ClaimAnswer) ([]Submission, error) {
	var out []Submission
	err := s.claimsTx(ctx, func(tx claimsTx) (err error) {
		out, err = answerClaims(ctx, tx, by, as)
		return err
	})
	return out, err
}

// AnswerSets implements EncounterStore.
func (s *SQLite) AnswerSets(ctx context.Context, by string, as []SetAnswer) ([]int, error) {
	var out []int
	err := s.claimsTx(ctx, func(tx claimsTx) (err error) {
		out, err = answerSets(ctx, tx, by, as)
		return err
	})
	return out, err
}

// Encounters implements EncounterStore.
func (s *SQLite) Encounters(ctx context.Context, status, month string) ([]Submission, error) {
	var out []Submission
	err := s.claimsTx(ctx, func(tx claimsTx) (err error) {
		out, err = querySubmissions(ctx, tx, encountersQuery, status, status, month, month)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: encounters: %w", err)
	}
	return out, nil
}

func (s *SQLite) claimsTx(ctx context.Context, fn func(claimsTx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	if err := fn(sqliteClaimsTx{tx}); err != nil {
		return err
	}
	return tx.Commit()
}

// AnswerClaims implements EncounterStore.
func (p *Postgres) AnswerClaims(ctx context.Context, by string, as []ClaimAnswer) ([]Submission, error) {
	var out []Submission
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) (err error) {
		out, err = answerClaims(ctx, pgClaimsTx{tx}, by, as)
		return err
	})
	return out, err
}

// AnswerSets implements EncounterStore.
func (p *Postgres) AnswerSets(ctx context.Context, by string, as []SetAnswer) ([]int, error) {
	var out []int
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) (err error) {
		out, err = answerSets(ctx, pgClaimsTx{tx}, by, as)
		return err
	})
	return out, err
}

// Encounters implements EncounterStore.
func (p *Postgres) Encounters(ctx context.Context, status, month string) ([]Submission, error) {
	var out []Submission
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) (err error) {
		out, err = querySubmissions(ctx, pgClaimsTx{tx}, encountersQuery, status, status, month, month)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: encounters: %w", err)
	}
	return out, nil
}
