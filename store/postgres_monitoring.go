package store

import (
	"context"
	"fmt"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	"github.com/jackc/pgx/v5"
)

// RecordServices implements ServiceRecorder for a run of the PostgreSQL store.
func (p *Postgres) RecordServices(ctx context.Context, run Run, services []domain.SentService) error {
	r, ok := run.(*pgRun)
	if !ok {
		return fmt.Errorf("%w: not a PostgreSQL run", ErrNoRun)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	q := fmt.Sprintf(insertServiceSQL, placeholders(12, true))
	for start := 0; start < len(services); start += pgBatchRows {
		var b pgx.Batch
		for i := start; i < min(start+pgBatchRows, len(services)); i++ {
			b.Queue(q, serviceArgs(r.id, &services[i])...)
		}
		if err := execBatch(ctx, r.tx, &b, func(int) string { return "store: record service" }); err != nil {
			return err
		}
	}
	return nil
}

// EachMonthMember implements MonitoringStore.
func (p *Postgres) EachMonthMember(ctx context.Context, from, to civil.Date, fn func(*MonthMember) error) error {
	rows, err := p.pool.Query(ctx, fmt.Sprintf(monthRowsSQL, "start_date", "end_date", "$1", "$2"), int64(from), int64(to))
	if err != nil {
		return fmt.Errorf("store: month members: %w", err)
	}
	defer rows.Close()
	g := &monthGrouper{fn: fn, strs: map[string]string{}}
	var r monthRow
	var kind int32
	var from64, to64, decided int64
	for rows.Next() {
		d := r.dest()
		d[1], d[10], d[11], d[12] = &kind, &from64, &to64, &decided
		if err := rows.Scan(d...); err != nil {
			return fmt.Errorf("store: month members: %w", err)
		}
		r.kind, r.from, r.to, r.decided = int(kind), from64, to64, decided
		if err := g.add(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: month members: %w", err)
	}
	return g.flush()
}

// StateAsOf implements MonitoringStore.
func (p *Postgres) StateAsOf(ctx context.Context) (time.Time, error) {
	var last *time.Time
	err := p.pool.QueryRow(ctx, `SELECT max(t) FROM (
		SELECT max(finished) AS t FROM enrollment_loads
		UNION ALL SELECT max(ended) FROM runs WHERE status = 'completed'
		UNION ALL SELECT max(loaded_at) FROM provider_sites) x`).Scan(&last)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: state time: %w", err)
	}
	if last == nil {
		return time.Time{}, nil
	}
	return last.UTC().Truncate(time.Second), nil
}

// LatestVersion implements MonitoringStore.
func (p *Postgres) LatestVersion(ctx context.Context, month string) (int, bool, error) {
	var v, r int32
	if err := p.pool.QueryRow(ctx, fmt.Sprintf(latestVersionSQL, "$1"), month).Scan(&v, &r); err != nil {
		return 0, false, fmt.Errorf("store: submission versions: %w", err)
	}
	return int(v), v > 0 && r == v, nil
}

// SubmittedRecords implements MonitoringStore.
func (p *Postgres) SubmittedRecords(ctx context.Context, month string) ([]SubmittedRecord, error) {
	rows, err := p.pool.Query(ctx, fmt.Sprintf(selectRecordsSQL, "$1"), month)
	if err != nil {
		return nil, fmt.Errorf("store: submitted records: %w", err)
	}
	defer rows.Close()
	var out []SubmittedRecord
	for rows.Next() {
		var r SubmittedRecord
		var v int32
		if err := rows.Scan(&r.RecordID, &r.Month, &v, &r.DataSet, &r.KeyHash, &r.ContentHash, &r.CIN, &r.Status, &r.Responses, &r.RecordType, &r.ParentID); err != nil {
			return nil, fmt.Errorf("store: submitted records: %w", err)
		}
		r.Version = int(v)
		out = append(out, r)
	}
	return out, rows.Err()
}

// EachSubmittedRecord implements MonitoringStore.
func (p *Postgres) EachSubmittedRecord(ctx context.Context, month string, before int, fn func(*SubmittedRecord) error) error {
	rows, err := p.pool.Query(ctx, fmt.Sprintf(eachRecordSQL, "$1", "$2"), month, before)
	if err != nil {
		return fmt.Errorf("store: submitted records: %w", err)
	}
	defer rows.Close()
	var r SubmittedRecord
	var v int32
	for rows.Next() {
		if err := rows.Scan(&r.RecordID, &r.Month, &v, &r.DataSet, &r.KeyHash, &r.ContentHash, &r.CIN, &r.Status, &r.Responses, &r.RecordType, &r.ParentID); err != nil {
			return fmt.Errorf("store: submitted records: %w", err)
		}
		r.Version = int(v)
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// SubmittedBodies implements MonitoringStore.
func (p *Postgres) SubmittedBodies(ctx context.Context, recordIDs []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := eachChunk(recordIDs, func(args []any) error {
		rows, err := p.pool.Query(ctx, selectBodiesSQL(len(args), true), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		return readBodies(rows.Next, rows.Scan, rows.Err, out)
	})
	if err != nil {
		return nil, fmt.Errorf("store: submitted bodies: %w", err)
	}
	return out, nil
}

// ReplaceSubmission implements MonitoringStore.
func (p *Postgres) ReplaceSubmission(ctx context.Context, month string, version int, recs func(yield func(SubmittedRecord) error) error) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: submission: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DELETE FROM monitoring_records WHERE month = $1 AND version = $2`, month, version); err != nil {
		return fmt.Errorf("store: submission: %w", err)
	}
	q := fmt.Sprintf(insertRecordSQL, placeholders(recordColumns, true))
	batch := &pgx.Batch{}
	send := func() error {
		if batch.Len() == 0 {
			return nil
		}
		err := tx.SendBatch(ctx, batch).Close()
		batch = &pgx.Batch{}
		return err
	}
	err = recs(func(r SubmittedRecord) error {
		batch.Queue(q, recordArgs(month, version, &r)...)
		if batch.Len() >= 1000 {
			return send()
		}
		return nil
	})
	if err == nil {
		err = send()
	}
	if err != nil {
		return fmt.Errorf("store: submission: %w", err)
	}
	return tx.Commit(ctx)
}

// SetRecordStatuses implements MonitoringStore.
func (p *Postgres) SetRecordStatuses(ctx context.Context, recs []SubmittedRecord) (int, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: record statuses: %w", err)
	}
	defer tx.Rollback(ctx)
	n := 0
	for _, r := range recs {
		tag, err := tx.Exec(ctx, `UPDATE monitoring_records SET status = $1, responses = $2 WHERE record_id = $3`, r.Status, r.Responses, r.RecordID)
		if err != nil {
			return 0, fmt.Errorf("store: record status: %w", err)
		}
		if tag.RowsAffected() > 0 {
			n++
		}
	}
	return n, tx.Commit(ctx)
}
