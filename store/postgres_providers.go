package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// The provider roster on PostgreSQL: the tables, queries and semantics of
// providers.go, shared by the instances. What differs from SQLite, each
// said here only:
//
//   - placeholders: the shared queries are written with ?, which
//     pgPlaceholders numbers ($1, $2, ...) once at start;
//   - column types: record is BYTEA (SQLite BLOB), loaded_at TIMESTAMPTZ
//     (SQLite RFC 3339 text), and the text keys sort byte by byte
//     (COLLATE "C", as SQLite's BINARY), so that ProviderSiteRecords and
//     Contracts list in the same order on both engines;
//   - concurrent loads: a load holds an advisory lock for its transaction,
//     so loads from several instances run one after the other, as SQLite's
//     single writer makes them; the second load of the same file waits for
//     the first and then finds it loaded;
//   - round trips: the sites of a load go to the server in batches
//     (pgRosterBatch sites a trip), each site's read and upsert in order.
//

// postgresProvidersMigrations are the PostgreSQL migrations of the providers
// component, in order (see sqliteComponents in migrate.go).
var postgresProvidersMigrations = []string{
	`CREATE TABLE provider_sites (
		npi           TEXT COLLATE "C" NOT NULL,
		site_key      TEXT COLLATE "C" NOT NULL,
		county        TEXT COLLATE "C" NOT NULL,
		contract_from INTEGER NOT NULL,
		contract_to   INTEGER NOT NULL, -- 0: open-ended
		contract      TEXT NOT NULL,    -- domain.ProviderContract as JSON
		record        BYTEA NOT NULL,   -- the full site record (mappings/roster.Site as JSON)
		source_file   TEXT NOT NULL,
		source_row    INTEGER NOT NULL,
		loaded_at     TIMESTAMPTZ NOT NULL,
		PRIMARY KEY (npi, site_key)
	)`,
	`CREATE INDEX provider_sites_period ON provider_sites(contract_from, contract_to)`,
	`CREATE TABLE roster_files (
		sha256    TEXT PRIMARY KEY,
		name      TEXT NOT NULL,
		sites     INTEGER NOT NULL,
		loaded_at TIMESTAMPTZ NOT NULL
	)`,
}

// pgPlaceholders numbers the ? placeholders of a shared query for
// PostgreSQL. The shared queries have no ? inside literals.
func pgPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for _, part := range strings.SplitAfter(q, "?") {
		if p, ok := strings.CutSuffix(part, "?"); ok {
			n++
			b.WriteString(p + "$" + strconv.Itoa(n))
			continue
		}
		b.WriteString(part)
	}
	return b.String()
}

var (
	pgRosterPriorSQL = pgPlaceholders(rosterPriorSQL)
	pgSiteGetSQL     = pgPlaceholders(siteGetSQL)
	pgSitePutSQL     = pgPlaceholders(sitePutSQL)
	pgRosterAddSQL   = pgPlaceholders(rosterAddSQL)
	pgContractsSQL   = pgPlaceholders(contractsSQL)
	pgSiteRecordsSQL = pgPlaceholders(siteRecordsSQL)
)

// rosterLoadLock is the advisory lock key a roster load holds.
const rosterLoadLock = migrationLock + 1

// pgRosterBatch is how many sites of a load go to the server in one trip.
const pgRosterBatch = 500

// LoadRoster upserts the sites of one roster file in one transaction, as
// (*SQLite).LoadRoster does.
func (p *Postgres) LoadRoster(ctx context.Context, file string, sum [32]byte, sites []ProviderSite) (RosterLoad, error) {
	res := RosterLoad{Sites: len(sites)}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(rosterLoadLock)); err != nil {
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	hash := hex.EncodeToString(sum[:])
	err = tx.QueryRow(ctx, pgRosterPriorSQL, hash).Scan(&res.PriorName, &res.PriorAt)
	switch {
	case err == nil:
		res.AlreadyLoaded = true
		res.PriorAt = res.PriorAt.UTC()
		return res, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	loaded := time.Now().UTC()
	for start := 0; start < len(sites); start += pgRosterBatch {
		b := &pgx.Batch{}
		for i := start; i < min(start+pgRosterBatch, len(sites)); i++ {
			site := &sites[i]
			row, err := newSiteRow(file, site)
			if err != nil {
				return res, err
			}
			b.Queue(pgSiteGetSQL, site.Contract.NPI, site.Key).QueryRow(func(r pgx.Row) error {
				var oldContract string
				var oldRecord []byte
				err := r.Scan(&oldContract, &oldRecord)
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					return fmt.Errorf("row %d: %w", site.SourceRow, err)
				}
				res.count(site, row, err == nil, oldContract, oldRecord)
				return nil
			})
			b.Queue(pgSitePutSQL, append(row.args, loaded)...)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return res, fmt.Errorf("store: load roster %s: %w", file, err)
		}
	}
	if _, err := tx.Exec(ctx, pgRosterAddSQL, hash, file, len(sites), loaded); err != nil {
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	return res, nil
}

// RosterLoaded reports whether any roster file has been loaded.
func (p *Postgres) RosterLoaded(ctx context.Context) (bool, error) {
	var n int64
	if err := p.pool.QueryRow(ctx, rosterCountSQL).Scan(&n); err != nil {
		return false, fmt.Errorf("store: roster: %w", err)
	}
	return n > 0, nil
}

// Contracts returns the contract of every site of the provider with this
// NPI, none when the roster does not know it.
func (p *Postgres) Contracts(ctx context.Context, npi string) ([]domain.ProviderContract, error) {
	rows, err := p.pool.Query(ctx, pgContractsSQL, npi)
	if err != nil {
		return nil, fmt.Errorf("store: provider contracts: %w", err)
	}
	defer rows.Close()
	return readContracts(rows)
}

// ProviderSiteRecords returns the full records of the sites whose
// contract is in force on at least one day of [from, to], ordered by
// county, NPI and site key.
func (p *Postgres) ProviderSiteRecords(ctx context.Context, from, to civil.Date) ([][]byte, error) {
	rows, err := p.pool.Query(ctx, pgSiteRecordsSQL, int64(to), int64(from))
	if err != nil {
		return nil, fmt.Errorf("store: provider sites: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var rec []byte
		if err := rows.Scan(&rec); err != nil {
			return nil, fmt.Errorf("store: provider sites: %w", err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: provider sites: %w", err)
	}
	return out, nil
}

var _ domain.ProviderDirectory = (*Postgres)(nil)
