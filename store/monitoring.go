package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// The monitoring component keeps what the monthly monitoring JSON to DHCS
// is built from beyond the enrollment tables: the encounter lines sent
// (by member, service and leg), and the records of each monthly file with
// the status DHCS's response gave them.

// ServiceRecorder records the encounter lines a conversion run sends
// (store.SQLite, store.Postgres).
type ServiceRecorder interface {
	// RecordServices records lines as sent by an open run: they are kept
	// only if the run is Written.
	RecordServices(ctx context.Context, run Run, services []domain.SentService) error
}

// MonthMember is what the store holds of one member for a month's
// monitoring file.
type MonthMember struct {
	CIN      string
	Enrollee *domain.Enrollee // nil when no 834 named the member
	// Auths are all the member's authorizations, by number.
	Auths []domain.Authorization
	// Services are the lines sent whose first date of service falls in the
	// month, ordered by date, code and the rest of the line.
	Services []domain.SentService
}

// SubmittedRecord is one record of a monthly file as sent, and what DHCS's
// response said of it.
type SubmittedRecord struct {
	RecordID    string
	Month       string // YYYY-MM
	Version     int    // the month's file: 1 original, 2.. resubmissions
	DataSet     string
	KeyHash     string // the record's identity across versions (no PHI)
	ContentHash string // its content, to tell a changed record
	CIN         string // "" for a record of no member (networks, utilization)
	Status      string // "" until a response, then Accepted or Rejected
	Responses   string // the response's messages, "id severity: description" per line
	// RecordType is Original, Resubmission or Void; ParentID the record a
	// Resubmission or Void replaces or withdraws ("" for an Original).
	RecordType string
	ParentID   string
	// Body is the record as sent from planCode on (the fields after its
	// identity): what a later Void of it carries again. ReplaceSubmission
	// keeps it; SubmittedRecords leaves it nil (SubmittedBodies reads it).
	Body []byte
}

// Record statuses a DHCS response sets.
const (
	RecordAccepted = "Accepted"
	RecordRejected = "Rejected"
)

// MonitoringStore is what the monthly monitoring job reads and keeps.
type MonitoringStore interface {
	// EachMonthMember calls fn for every member with an 834 record, an
	// authorization, or a line sent in [from, to], in CIN key order. The
	// MonthMember is reused between calls.
	EachMonthMember(ctx context.Context, from, to civil.Date, fn func(*MonthMember) error) error
	// StateAsOf is when the state the file reflects last changed: the last
	// enrollment load, conversion run or roster load (zero for an empty
	// store), in whole seconds.
	StateAsOf(ctx context.Context) (time.Time, error)
	// ProviderSiteRecords returns the roster sites in force during [from, to].
	ProviderSiteRecords(ctx context.Context, from, to civil.Date) ([][]byte, error)
	// LatestVersion returns the month's latest file version (0 when none)
	// and whether a DHCS response gave its records a status.
	LatestVersion(ctx context.Context, month string) (version int, responded bool, err error)
	// SubmittedRecords returns the records of every file of a month, by
	// version then record ID, without their bodies.
	SubmittedRecords(ctx context.Context, month string) ([]SubmittedRecord, error)
	// EachSubmittedRecord calls fn with the records of a month's files
	// before version, as SubmittedRecords orders them, one at a time
	// (the record is reused between calls).
	EachSubmittedRecord(ctx context.Context, month string, before int, fn func(*SubmittedRecord) error) error
	// SubmittedBodies returns the bodies of the records named, by record
	// ID; a record ID not recorded is absent from the map.
	SubmittedBodies(ctx context.Context, recordIDs []string) (map[string][]byte, error)
	// ReplaceSubmission records the records of a month's file version,
	// replacing what a build of that same version recorded before.
	ReplaceSubmission(ctx context.Context, month string, version int, recs func(yield func(SubmittedRecord) error) error) error
	// SetRecordStatuses stores a response's verdicts by record ID and
	// returns how many records it matched.
	SetRecordStatuses(ctx context.Context, recs []SubmittedRecord) (int, error)
}

var (
	_ MonitoringStore = (*SQLite)(nil)
	_ MonitoringStore = (*Postgres)(nil)
	_ ServiceRecorder = (*SQLite)(nil)
	_ ServiceRecorder = (*Postgres)(nil)
)

var sqliteMonitoringMigrations = []string{
	`CREATE TABLE monitoring_services (
		id        INTEGER PRIMARY KEY,
		run_id    INTEGER NOT NULL,
		cin_key   INTEGER NOT NULL,
		cin       TEXT NOT NULL,
		service   TEXT NOT NULL,
		hcpcs     TEXT NOT NULL,
		modifiers TEXT NOT NULL,
		outreach  INTEGER NOT NULL,
		svc_from  INTEGER NOT NULL,
		svc_to    INTEGER NOT NULL,
		units     INTEGER NOT NULL,
		charge    INTEGER NOT NULL,
		npi       TEXT NOT NULL
	)`,
	`CREATE INDEX monitoring_services_member ON monitoring_services(cin_key, svc_from)`,
	`CREATE TABLE monitoring_records (
		record_id    TEXT PRIMARY KEY,
		month        TEXT NOT NULL,
		version      INTEGER NOT NULL,
		data_set     TEXT NOT NULL,
		key_hash     TEXT NOT NULL,
		content_hash TEXT NOT NULL,
		cin          TEXT NOT NULL,
		status       TEXT NOT NULL DEFAULT '',
		responses    TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX monitoring_records_month ON monitoring_records(month, version)`,
	`ALTER TABLE monitoring_records ADD COLUMN record_type TEXT NOT NULL DEFAULT 'Original'`,
	`ALTER TABLE monitoring_records ADD COLUMN parent_id TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE monitoring_records ADD COLUMN body BLOB NOT NULL DEFAULT x''`,
}

var postgresMonitoringMigrations = []string{
	`CREATE TABLE monitoring_services (
		id        BIGSERIAL PRIMARY KEY,
		run_id    BIGINT NOT NULL,
		cin_key   BIGINT NOT NULL,
		cin       TEXT NOT NULL,
		service   TEXT NOT NULL,
		hcpcs     TEXT NOT NULL,
		modifiers TEXT NOT NULL,
		outreach  INTEGER NOT NULL,
		svc_from  INTEGER NOT NULL,
		svc_to    INTEGER NOT NULL,
		units     BIGINT NOT NULL,
		charge    BIGINT NOT NULL,
		npi       TEXT NOT NULL
	)`,
	`CREATE INDEX monitoring_services_member ON monitoring_services(cin_key, svc_from)`,
	`CREATE TABLE monitoring_records (
		record_id    TEXT PRIMARY KEY,
		month        TEXT NOT NULL,
		version      INTEGER NOT NULL,
		data_set     TEXT NOT NULL,
		key_hash     TEXT NOT NULL,
		content_hash TEXT NOT NULL,
		cin          TEXT NOT NULL,
		status       TEXT NOT NULL DEFAULT '',
		responses    TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX monitoring_records_month ON monitoring_records(month, version)`,
	`ALTER TABLE monitoring_records ADD COLUMN record_type TEXT NOT NULL DEFAULT 'Original'`,
	`ALTER TABLE monitoring_records ADD COLUMN parent_id TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE monitoring_records ADD COLUMN body BYTEA NOT NULL DEFAULT ''::bytea`,
}

const insertServiceSQL = `INSERT INTO monitoring_services(run_id, cin_key, cin, service, hcpcs, modifiers, outreach, svc_from, svc_to, units, charge, npi)
	VALUES (%s)`

func serviceArgs(run int64, s *domain.SentService) []any {
	out := 0
	if s.Outreach {
		out = 1
	}
	return []any{run, CINKey(s.CIN), s.CIN, s.Service, s.HCPCS, strings.Join(s.Modifiers, " "), out,
		int64(s.From), int64(s.To), int64(s.Units), int64(s.Charge), s.NPI}
}

func placeholders(n int, pg bool) string {
	p := make([]string, n)
	for i := range p {
		p[i] = "?"
		if pg {
			p[i] = fmt.Sprintf("$%d", i+1)
		}
	}
	return strings.Join(p, ", ")
}

// RecordServices implements ServiceRecorder for a run of the SQLite store.
func (s *SQLite) RecordServices(ctx context.Context, run Run, services []domain.SentService) error {
	r, ok := run.(*sqliteRun)
	if !ok || r.done {
		return fmt.Errorf("%w: not an open SQLite run", ErrNoRun)
	}
	stmt, err := r.conn.PrepareContext(ctx, fmt.Sprintf(insertServiceSQL, placeholders(12, false)))
	if err != nil {
		return fmt.Errorf("store: record service: %w", err)
	}
	defer stmt.Close()
	for i := range services {
		if _, err := stmt.ExecContext(ctx, serviceArgs(r.id, &services[i])...); err != nil {
			return fmt.Errorf("store: record service: %w", err)
		}
	}
	return nil
}

// monthRowsSQL lists, in one pass ordered by member, each member's row
// (kind 0), authorizations (1) and lines sent in the month (2): the three
// parts are read in cin_key order through their indexes and merged.
const monthRowsSQL = `
SELECT cin_key, 0 AS kind, data, '', '', '', '', '', '', '', 0, 0, 0, '', '', 0, 0, 0, 0
	FROM enrollment_members
UNION ALL
SELECT cin_key, 1, NULL, number, cin, service, provider_npi, pof, status, type, %[1]s, %[2]s, decided, '', '', 0, COALESCE(units, -1), communicated, 0
	FROM enrollment_auths
UNION ALL
SELECT cin_key, 2, NULL, '', cin, service, npi, '', '', '', svc_from, svc_to, 0, hcpcs, modifiers, outreach, units, charge, id
	FROM monitoring_services WHERE svc_from >= %[3]s AND svc_from <= %[4]s
ORDER BY 1, 2`

// monthRow is one row of monthRowsSQL.
type monthRow struct {
	key                                         int64
	kind                                        int
	data                                        []byte
	number, cin, service, npi, pof, status, typ string
	from, to, decided                           int64
	hcpcs, mods                                 string
	outreach                                    int64
	units, charge, id                           int64
}

func (r *monthRow) dest() []any {
	return []any{&r.key, &r.kind, &r.data, &r.number, &r.cin, &r.service, &r.npi, &r.pof, &r.status, &r.typ,
		&r.from, &r.to, &r.decided, &r.hcpcs, &r.mods, &r.outreach, &r.units, &r.charge, &r.id}
}

// monthGrouper gathers rows into members and hands each to fn.
type monthGrouper struct {
	m    MonthMember
	key  int64
	have bool
	strs map[string]string
	fn   func(*MonthMember) error
}

func (g *monthGrouper) add(r *monthRow) error {
	if g.have && r.key != g.key {
		if err := g.flush(); err != nil {
			return err
		}
	}
	if !g.have {
		g.have, g.key = true, r.key
		g.m.CIN, g.m.Enrollee, g.m.Auths, g.m.Services = "", nil, g.m.Auths[:0], g.m.Services[:0]
	}
	switch r.kind {
	case 0:
		e, err := decodeMember(r.data, g.strs)
		if err != nil {
			return err
		}
		g.m.Enrollee, g.m.CIN = e, e.CIN
	case 1:
		if g.m.CIN == "" {
			g.m.CIN = r.cin
		}
		if r.cin != g.m.CIN { // a hashed key shared by two CINs
			return nil
		}
		a := domain.Authorization{Number: r.number, CIN: r.cin, Service: r.service, ProviderNPI: r.npi, POF: r.pof,
			Status: domain.AuthStatus(r.status), Type: domain.AuthType(r.typ), From: civil.Date(r.from), To: civil.Date(r.to),
			Decided: civil.Date(r.decided), Communicated: civil.Date(r.charge)}
		if r.units >= 0 {
			a.Units, a.HasUnits = domain.Quantity(r.units), true
		}
		g.m.Auths = append(g.m.Auths, a)
	case 2:
		if g.m.CIN == "" {
			g.m.CIN = r.cin
		}
		if r.cin != g.m.CIN {
			return nil
		}
		var mods []string
		if r.mods != "" {
			mods = strings.Fields(r.mods)
		}
		g.m.Services = append(g.m.Services, domain.SentService{CIN: r.cin, Service: r.service, HCPCS: r.hcpcs, Modifiers: mods,
			Outreach: r.outreach != 0, From: civil.Date(r.from), To: civil.Date(r.to), Units: domain.Quantity(r.units),
			Charge: domain.Money(r.charge), NPI: r.npi})
	}
	return nil
}

func (g *monthGrouper) flush() error {
	if !g.have {
		return nil
	}
	g.have = false
	slices.SortFunc(g.m.Auths, func(a, b domain.Authorization) int { return strings.Compare(a.Number, b.Number) })
	slices.SortFunc(g.m.Services, compareServices)
	return g.fn(&g.m)
}

// compareServices orders a member's lines by every field, so that the
// order does not depend on how the store returned them.
func compareServices(a, b domain.SentService) int {
	if c := int(a.From) - int(b.From); c != 0 {
		return c
	}
	for _, c := range []int{strings.Compare(a.HCPCS, b.HCPCS), slices.Compare(a.Modifiers, b.Modifiers), int(a.To) - int(b.To),
		strings.Compare(a.NPI, b.NPI), strings.Compare(a.Service, b.Service)} {
		if c != 0 {
			return c
		}
	}
	if a.Units != b.Units {
		return int(a.Units - b.Units)
	}
	return int(a.Charge - b.Charge)
}

// EachMonthMember implements MonitoringStore.
func (s *SQLite) EachMonthMember(ctx context.Context, from, to civil.Date, fn func(*MonthMember) error) error {
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(monthRowsSQL, "start", "end", "?", "?"), int64(from), int64(to))
	if err != nil {
		return fmt.Errorf("store: month members: %w", err)
	}
	defer rows.Close()
	g := &monthGrouper{fn: fn, strs: map[string]string{}}
	var r monthRow
	for rows.Next() {
		r.data = r.data[:0]
		if err := rows.Scan(r.dest()...); err != nil {
			return fmt.Errorf("store: month members: %w", err)
		}
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
func (s *SQLite) StateAsOf(ctx context.Context) (time.Time, error) {
	var last sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT max(t) FROM (
		SELECT max(finished) AS t FROM enrollment_loads
		UNION ALL SELECT max(ended) FROM runs WHERE status = 'completed'
		UNION ALL SELECT max(loaded_at) FROM provider_sites)`).Scan(&last)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: state time: %w", err)
	}
	if !last.Valid || last.String == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, last.String)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: state time %q: %w", last.String, err)
	}
	return t.UTC().Truncate(time.Second), nil
}

const latestVersionSQL = `SELECT COALESCE(max(version), 0),
	COALESCE(max(CASE WHEN status <> '' THEN version END), 0) FROM monitoring_records WHERE month = %s`

// LatestVersion implements MonitoringStore.
func (s *SQLite) LatestVersion(ctx context.Context, month string) (int, bool, error) {
	var v, r int
	if err := s.db.QueryRowContext(ctx, fmt.Sprintf(latestVersionSQL, "?"), month).Scan(&v, &r); err != nil {
		return 0, false, fmt.Errorf("store: submission versions: %w", err)
	}
	return v, v > 0 && r == v, nil
}

const selectRecordsSQL = `SELECT record_id, month, version, data_set, key_hash, content_hash, cin, status, responses, record_type, parent_id
	FROM monitoring_records WHERE month = %s ORDER BY version, record_id`

// SubmittedRecords implements MonitoringStore.
func (s *SQLite) SubmittedRecords(ctx context.Context, month string) ([]SubmittedRecord, error) {
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(selectRecordsSQL, "?"), month)
	if err != nil {
		return nil, fmt.Errorf("store: submitted records: %w", err)
	}
	defer rows.Close()
	var out []SubmittedRecord
	for rows.Next() {
		var r SubmittedRecord
		if err := rows.Scan(&r.RecordID, &r.Month, &r.Version, &r.DataSet, &r.KeyHash, &r.ContentHash, &r.CIN, &r.Status, &r.Responses, &r.RecordType, &r.ParentID); err != nil {
			return nil, fmt.Errorf("store: submitted records: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

const eachRecordSQL = `SELECT record_id, month, version, data_set, key_hash, content_hash, cin, status, responses, record_type, parent_id
	FROM monitoring_records WHERE month = %s AND version < %s ORDER BY version, record_id`

// EachSubmittedRecord implements MonitoringStore.
func (s *SQLite) EachSubmittedRecord(ctx context.Context, month string, before int, fn func(*SubmittedRecord) error) error {
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(eachRecordSQL, "?", "?"), month, before)
	if err != nil {
		return fmt.Errorf("store: submitted records: %w", err)
	}
	defer rows.Close()
	var r SubmittedRecord
	for rows.Next() {
		if err := rows.Scan(&r.RecordID, &r.Month, &r.Version, &r.DataSet, &r.KeyHash, &r.ContentHash, &r.CIN, &r.Status, &r.Responses, &r.RecordType, &r.ParentID); err != nil {
			return fmt.Errorf("store: submitted records: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// bodiesPerSelect is how many record IDs one SubmittedBodies query names.
const bodiesPerSelect = 500

// selectBodiesSQL reads the bodies of n records.
func selectBodiesSQL(n int, pg bool) string {
	return `SELECT record_id, body FROM monitoring_records WHERE record_id IN (` + placeholders(n, pg) + `)`
}

// eachChunk calls fn with the IDs by bodiesPerSelect, as query arguments.
func eachChunk(ids []string, fn func(args []any) error) error {
	for len(ids) > 0 {
		n := min(len(ids), bodiesPerSelect)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if err := fn(args); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// SubmittedBodies implements MonitoringStore.
func (s *SQLite) SubmittedBodies(ctx context.Context, recordIDs []string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := eachChunk(recordIDs, func(args []any) error {
		rows, err := s.db.QueryContext(ctx, selectBodiesSQL(len(args), false), args...)
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

// readBodies adds each (record ID, body) row of a SubmittedBodies query
// to out, on either engine's rows.
func readBodies(next func() bool, scan func(...any) error, rowsErr func() error, out map[string][]byte) error {
	for next() {
		var id string
		var body []byte
		if err := scan(&id, &body); err != nil {
			return err
		}
		out[id] = body
	}
	return rowsErr()
}

// insertRecordSQL adds a record of a version whose earlier records were
// deleted: a record ID given twice (a mapping error) fails the build.
const insertRecordSQL = `INSERT INTO monitoring_records(record_id, month, version, data_set, key_hash, content_hash, cin, record_type, parent_id, body) VALUES (%s)`

// recordColumns is how many columns insertRecordSQL sets.
const recordColumns = 10

// recordArgs are insertRecordSQL's arguments for r.
func recordArgs(month string, version int, r *SubmittedRecord) []any {
	body := r.Body
	if body == nil {
		body = []byte{}
	}
	return []any{r.RecordID, month, version, r.DataSet, r.KeyHash, r.ContentHash, r.CIN, cmp.Or(r.RecordType, "Original"), r.ParentID, body}
}

// recordsPerInsert is how many records one SQLite INSERT adds.
const recordsPerInsert = 200

// insertRecordsSQL is insertRecordSQL for n rows.
func insertRecordsSQL(n int) string {
	row := "(" + placeholders(recordColumns, false) + ")"
	rows := make([]string, n)
	for i := range rows {
		rows[i] = row
	}
	return strings.Replace(fmt.Sprintf(insertRecordSQL, "%s"), "(%s)", strings.Join(rows, ", "), 1)
}

// ReplaceSubmission implements MonitoringStore.
func (s *SQLite) ReplaceSubmission(ctx context.Context, month string, version int, recs func(yield func(SubmittedRecord) error) error) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: submission: %w", err)
	}
	defer conn.Close()
	// Each many-row INSERT keeps a statement journal (to undo that
	// statement alone); in memory it is a few pages, in a temporary file
	// it costs system calls for every statement.
	if _, err := conn.ExecContext(ctx, `PRAGMA temp_store = MEMORY`); err != nil {
		return fmt.Errorf("store: submission: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA temp_store = DEFAULT`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: submission: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM monitoring_records WHERE month = ? AND version = ?`, month, version); err != nil {
		return fmt.Errorf("store: submission: %w", err)
	}
	// Rows go in by recordsPerInsert, one statement for many rows.
	many, err := tx.PrepareContext(ctx, insertRecordsSQL(recordsPerInsert))
	if err != nil {
		return fmt.Errorf("store: submission: %w", err)
	}
	defer many.Close()
	args := make([]any, 0, recordColumns*recordsPerInsert)
	insert := func(stmt *sql.Stmt) error {
		_, err := stmt.ExecContext(ctx, args...)
		args = args[:0]
		return err
	}
	err = recs(func(r SubmittedRecord) error {
		args = append(args, recordArgs(month, version, &r)...)
		if len(args) == cap(args) {
			return insert(many)
		}
		return nil
	})
	if err == nil && len(args) > 0 {
		var rest *sql.Stmt
		if rest, err = tx.PrepareContext(ctx, insertRecordsSQL(len(args)/recordColumns)); err == nil {
			err = insert(rest)
			rest.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("store: submission: %w", err)
	}
	return tx.Commit()
}

// SetRecordStatuses implements MonitoringStore.
func (s *SQLite) SetRecordStatuses(ctx context.Context, recs []SubmittedRecord) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: record statuses: %w", err)
	}
	defer tx.Rollback()
	n := 0
	for _, r := range recs {
		res, err := tx.ExecContext(ctx, `UPDATE monitoring_records SET status = ?, responses = ? WHERE record_id = ?`, r.Status, r.Responses, r.RecordID)
		if err != nil {
			return 0, fmt.Errorf("store: record status: %w", err)
		}
		if k, _ := res.RowsAffected(); k > 0 {
			n++
		}
	}
	return n, tx.Commit()
}
