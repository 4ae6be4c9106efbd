package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// InboxMessage is a raw HL7 v2 message as it was received (over MLLP),
// kept until the ADT pipeline has processed it.
type InboxMessage struct {
	ID                 int64     // set by the store, increasing in the order messages were added
	ReceivedAt         time.Time // when its frame was read
	Remote             string    // the sender's address (host:port)
	SendingApplication string    // MSH-3's first component
	SendingFacility    string    // MSH-4's first component
	ControlID          string    // MSH-10
	Raw                []byte    // the message, byte for byte
}

// Inbox is the durable inbox of raw HL7 messages (store.SQLite,
// store.Postgres). The MLLP listener adds messages and acknowledges each
// only after InboxAdd returned; the ADT pipeline reads InboxPending, turns
// the messages into events, and calls InboxMarkProcessed once those are
// committed. A message is processed at least once: one read again after a
// crash before InboxMarkProcessed must be recognised (its sender and
// MSH-10) by the events store.
type Inbox interface {
	// InboxAdd stores msgs in one transaction, in order, and reports for
	// each whether it is new: a message whose sending application,
	// facility and MSH-10 are already in the inbox (a sender sending again
	// a message whose ACK it did not get) is not stored twice.
	InboxAdd(ctx context.Context, msgs []InboxMessage) ([]bool, error)
	// InboxPending returns up to limit messages not yet processed, in the
	// order they were added.
	InboxPending(ctx context.Context, limit int) ([]InboxMessage, error)
	// InboxMarkProcessed marks messages processed (an ID unknown or already
	// processed is ignored); they are no longer pending.
	InboxMarkProcessed(ctx context.Context, ids []int64) error
}

var (
	_ Inbox = (*SQLite)(nil)
	_ Inbox = (*Postgres)(nil)
)

// sqliteInboxMigrations and postgresInboxMigrations are the inbox
// component (sqliteComponents, postgresComponents).
var sqliteInboxMigrations = []string{
	`CREATE TABLE hl7_inbox (
		id                  INTEGER PRIMARY KEY AUTOINCREMENT,
		received_at         TEXT NOT NULL,
		remote              TEXT NOT NULL,
		sending_application TEXT NOT NULL,
		sending_facility    TEXT NOT NULL,
		control_id          TEXT NOT NULL,
		raw                 BLOB NOT NULL,
		processed           INTEGER NOT NULL DEFAULT 0,
		processed_at        TEXT,
		UNIQUE (sending_application, sending_facility, control_id)
	)`,
	`CREATE INDEX hl7_inbox_pending ON hl7_inbox(id) WHERE processed = 0`,
}

var postgresInboxMigrations = []string{
	`CREATE TABLE hl7_inbox (
		id                  BIGSERIAL PRIMARY KEY,
		received_at         TIMESTAMPTZ NOT NULL,
		remote              TEXT NOT NULL,
		sending_application TEXT NOT NULL,
		sending_facility    TEXT NOT NULL,
		control_id          TEXT NOT NULL,
		raw                 BYTEA NOT NULL,
		processed           BOOLEAN NOT NULL DEFAULT false,
		processed_at        TIMESTAMPTZ,
		UNIQUE (sending_application, sending_facility, control_id)
	)`,
	`CREATE INDEX hl7_inbox_pending ON hl7_inbox(id) WHERE NOT processed`,
}

const (
	insertInboxSQLite = `INSERT INTO hl7_inbox(received_at, remote, sending_application, sending_facility, control_id, raw)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	insertInboxPG = `INSERT INTO hl7_inbox(received_at, remote, sending_application, sending_facility, control_id, raw)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`
	selectInboxPending = `SELECT id, received_at, remote, sending_application, sending_facility, control_id, raw
		FROM hl7_inbox WHERE %s ORDER BY id LIMIT %s`
)

// InboxAdd implements Inbox. It writes in the single writer's turn (see
// SQLite.CompleteRun): while a run holds the write lock, it waits without
// holding a connection the run's reads need.
func (s *SQLite) InboxAdd(ctx context.Context, msgs []InboxMessage) ([]bool, error) {
	if err := s.takeTurn(ctx); err != nil {
		return nil, fmt.Errorf("store: inbox add: %w", err)
	}
	defer s.endTurn()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: inbox add: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, insertInboxSQLite)
	if err != nil {
		return nil, fmt.Errorf("store: inbox add: %w", err)
	}
	defer st.Close()
	added := make([]bool, len(msgs))
	for i, m := range msgs {
		res, err := st.ExecContext(ctx, m.ReceivedAt.UTC().Format(time.RFC3339Nano), m.Remote, m.SendingApplication, m.SendingFacility, m.ControlID, m.Raw)
		if err != nil {
			return nil, fmt.Errorf("store: inbox add message %s: %w", m.ControlID, err)
		}
		n, _ := res.RowsAffected()
		added[i] = n == 1
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: inbox add: %w", err)
	}
	return added, nil
}

// InboxPending implements Inbox.
func (s *SQLite) InboxPending(ctx context.Context, limit int) ([]InboxMessage, error) {
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(selectInboxPending, "processed = 0", "?"), limit)
	if err != nil {
		return nil, fmt.Errorf("store: inbox pending: %w", err)
	}
	defer rows.Close()
	var out []InboxMessage
	for rows.Next() {
		var m InboxMessage
		var at string
		if err := rows.Scan(&m.ID, &at, &m.Remote, &m.SendingApplication, &m.SendingFacility, &m.ControlID, &m.Raw); err != nil {
			return nil, fmt.Errorf("store: inbox pending: %w", err)
		}
		m.ReceivedAt, _ = time.Parse(time.RFC3339Nano, at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// InboxMarkProcessed implements Inbox.
func (s *SQLite) InboxMarkProcessed(ctx context.Context, ids []int64) error {
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)] // SQLite's bound on a statement's variables
		ids = ids[len(chunk):]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, now())
		for _, id := range chunk {
			args = append(args, id)
		}
		q := `UPDATE hl7_inbox SET processed = 1, processed_at = ? WHERE processed = 0 AND id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)`
		if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: inbox mark processed: %w", err)
		}
	}
	return nil
}

// InboxAdd implements Inbox: one transaction, the inserts sent as one batch.
func (p *Postgres) InboxAdd(ctx context.Context, msgs []InboxMessage) ([]bool, error) {
	added := make([]bool, len(msgs))
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		for _, m := range msgs {
			b.Queue(insertInboxPG, m.ReceivedAt, m.Remote, m.SendingApplication, m.SendingFacility, m.ControlID, m.Raw)
		}
		br := tx.SendBatch(ctx, &b)
		for i, m := range msgs {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return fmt.Errorf("store: inbox add message %s: %w", m.ControlID, err)
			}
			added[i] = tag.RowsAffected() == 1
		}
		return br.Close()
	})
	if err != nil {
		return nil, fmt.Errorf("store: inbox add: %w", err)
	}
	return added, nil
}

// InboxPending implements Inbox.
func (p *Postgres) InboxPending(ctx context.Context, limit int) ([]InboxMessage, error) {
	rows, err := p.pool.Query(ctx, fmt.Sprintf(selectInboxPending, "NOT processed", "$1"), limit)
	if err != nil {
		return nil, fmt.Errorf("store: inbox pending: %w", err)
	}
	defer rows.Close()
	var out []InboxMessage
	for rows.Next() {
		var m InboxMessage
		if err := rows.Scan(&m.ID, &m.ReceivedAt, &m.Remote, &m.SendingApplication, &m.SendingFacility, &m.ControlID, &m.Raw); err != nil {
			return nil, fmt.Errorf("store: inbox pending: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// InboxMarkProcessed implements Inbox.
func (p *Postgres) InboxMarkProcessed(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := p.pool.Exec(ctx, `UPDATE hl7_inbox SET processed = true, processed_at = now() WHERE NOT processed AND id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("store: inbox mark processed: %w", err)
	}
	return nil
}
