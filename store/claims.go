package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

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
}

// EncounterResponse is what a DHCS response says of one claim.
type EncounterResponse struct {
	CLM01       string // 277CA TRN02 of the claim level
	EncounterID string // REF*1K
	Status      string // STC01 category:status
}

// ClaimStore keeps the claims sent and their DHCS Encounter IDs
// (store.SQLite, store.Postgres).
type ClaimStore interface {
	// RecordClaims records claims as sent by an open run: they are kept
	// only if the run is Written. A CLM01 already recorded (a replacement or
	// void) keeps its first record.
	RecordClaims(ctx context.Context, run Run, claims []SentClaim) error
	// SetEncounterIDs stores what a DHCS response says of claims sent and
	// returns how many it matched.
	SetEncounterIDs(ctx context.Context, rs []EncounterResponse) (int, error)
	// SentClaim returns the latest claim sent whose CLM01 or invoice number
	// is ref (false when none).
	SentClaim(ctx context.Context, ref string) (SentClaim, bool, error)
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
}

const (
	insertClaimSQLite = `INSERT INTO sent_claims(clm01, run_id, invoice, hcp) VALUES (?, ?, ?, ?) ON CONFLICT(clm01) DO NOTHING`
	insertClaimPG     = `INSERT INTO sent_claims(clm01, run_id, invoice, hcp) VALUES ($1, $2, $3, $4) ON CONFLICT(clm01) DO NOTHING`
	selectClaim       = `SELECT clm01, run_id, invoice, hcp, encounter_id, status FROM sent_claims WHERE clm01 = %[1]s OR invoice = %[1]s ORDER BY run_id DESC LIMIT 1`
)

// RecordClaims implements ClaimStore for a run of the SQLite store.
func (s *SQLite) RecordClaims(ctx context.Context, run Run, claims []SentClaim) error {
	r, ok := run.(*sqliteRun)
	if !ok || r.done {
		return fmt.Errorf("%w: not an open SQLite run", ErrNoRun)
	}
	for _, c := range claims {
		if _, err := r.conn.ExecContext(ctx, insertClaimSQLite, c.CLM01, r.id, c.Invoice, c.HCP); err != nil {
			return fmt.Errorf("store: record claim %s: %w", c.CLM01, err)
		}
	}
	return nil
}

// SetEncounterIDs implements ClaimStore.
func (s *SQLite) SetEncounterIDs(ctx context.Context, rs []EncounterResponse) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: encounter IDs: %w", err)
	}
	defer tx.Rollback()
	n := 0
	for _, e := range rs {
		res, err := tx.ExecContext(ctx, `UPDATE sent_claims SET encounter_id = CASE WHEN ? = '' THEN encounter_id ELSE ? END, status = ? WHERE clm01 = ?`,
			e.EncounterID, e.EncounterID, e.Status, e.CLM01)
		if err != nil {
			return 0, fmt.Errorf("store: encounter ID of %s: %w", e.CLM01, err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, tx.Commit()
}

// SentClaim implements ClaimStore.
func (s *SQLite) SentClaim(ctx context.Context, ref string) (SentClaim, bool, error) {
	var c SentClaim
	err := s.db.QueryRowContext(ctx, fmt.Sprintf(selectClaim, "?1"), ref).Scan(&c.CLM01, &c.Run, &c.Invoice, &c.HCP, &c.EncounterID, &c.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("store: sent claim %s: %w", ref, err)
	}
	return c, true, nil
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
	for _, c := range claims {
		if _, err := r.tx.Exec(ctx, insertClaimPG, c.CLM01, r.id, c.Invoice, c.HCP); err != nil {
			return fmt.Errorf("store: record claim %s: %w", c.CLM01, err)
		}
	}
	return nil
}

// SetEncounterIDs implements ClaimStore.
func (p *Postgres) SetEncounterIDs(ctx context.Context, rs []EncounterResponse) (int, error) {
	n := 0
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		for _, e := range rs {
			tag, err := tx.Exec(ctx, `UPDATE sent_claims SET encounter_id = CASE WHEN $1 = '' THEN encounter_id ELSE $1 END, status = $2 WHERE clm01 = $3`,
				e.EncounterID, e.Status, e.CLM01)
			if err != nil {
				return fmt.Errorf("store: encounter ID of %s: %w", e.CLM01, err)
			}
			if tag.RowsAffected() > 0 {
				n++
			}
		}
		return nil
	})
	return n, err
}

// SentClaim implements ClaimStore.
func (p *Postgres) SentClaim(ctx context.Context, ref string) (SentClaim, bool, error) {
	var c SentClaim
	err := p.pool.QueryRow(ctx, fmt.Sprintf(selectClaim, "$1"), ref).Scan(&c.CLM01, &c.Run, &c.Invoice, &c.HCP, &c.EncounterID, &c.Status)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("store: sent claim %s: %w", ref, err)
	}
	return c, true, nil
}
