package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
)

// The provider roster: one row per provider site, keyed by (NPI, site key)
// (mappings/roster Site.Key: the NPI, the folded street address and the
// 5-digit ZIP). The store keeps each site's contract (what the rules read)
// and its full record as the roster decoder made it (opaque here: what the
// provider-file job reads). Loads upsert: a site seen again replaces its earlier row, a site
// not in a later file stays as it was — a contract ends by its
// contract_end, not by leaving the roster. Each file is loaded at most
// once (by content hash). The SQLite component is here;
// postgres_providers.go holds PostgreSQL's, with the same queries.

// sqliteProvidersMigrations are the SQLite migrations of the providers
// component, in order (see sqliteComponents in migrate.go).
var sqliteProvidersMigrations = []string{
	`CREATE TABLE provider_sites (
		npi           TEXT NOT NULL,
		site_key      TEXT NOT NULL,
		county        TEXT NOT NULL,
		contract_from INTEGER NOT NULL,
		contract_to   INTEGER NOT NULL, -- 0: open-ended
		contract      TEXT NOT NULL,    -- domain.ProviderContract as JSON
		record        BLOB NOT NULL,    -- the full site record (mappings/roster.Site as JSON)
		source_file   TEXT NOT NULL,
		source_row    INTEGER NOT NULL,
		loaded_at     TEXT NOT NULL,
		PRIMARY KEY (npi, site_key)
	) WITHOUT ROWID`,
	`CREATE INDEX provider_sites_period ON provider_sites(contract_from, contract_to)`,
	`CREATE TABLE roster_files (
		sha256    TEXT PRIMARY KEY,
		name      TEXT NOT NULL,
		sites     INTEGER NOT NULL,
		loaded_at TEXT NOT NULL
	)`,
}

// ProviderSite is one roster row as the store keeps it.
type ProviderSite struct {
	Key       string                  // the site's identity within the NPI
	Contract  domain.ProviderContract // what the rules read
	Record    []byte                  // the full site record, stored and returned as is
	SourceRow int                     // the row of the roster file it came from
}

// RosterLoad reports what loading a roster file did.
type RosterLoad struct {
	Sites     int // sites in the file
	Inserted  int // sites new to the store
	Updated   int // sites that replaced a stored row with different content
	Unchanged int // sites already stored as they are
	// AlreadyLoaded is set when a file with the same content was loaded
	// before (nothing changes then); PriorName and PriorAt say when.
	AlreadyLoaded bool
	PriorName     string
	PriorAt       time.Time
}

// The provider queries, the same text for both engines (PostgreSQL
// numbers the placeholders: pgPlaceholders).
const (
	rosterPriorSQL = `SELECT name, loaded_at FROM roster_files WHERE sha256 = ?`
	siteGetSQL     = `SELECT contract, record FROM provider_sites WHERE npi = ? AND site_key = ?`
	sitePutSQL     = `INSERT INTO provider_sites(npi, site_key, county, contract_from, contract_to, contract, record, source_file, source_row, loaded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(npi, site_key) DO UPDATE SET county = excluded.county, contract_from = excluded.contract_from,
			contract_to = excluded.contract_to, contract = excluded.contract, record = excluded.record,
			source_file = excluded.source_file, source_row = excluded.source_row, loaded_at = excluded.loaded_at`
	rosterAddSQL   = `INSERT INTO roster_files(sha256, name, sites, loaded_at) VALUES (?, ?, ?, ?)`
	rosterCountSQL = `SELECT count(*) FROM roster_files`
	contractsSQL   = `SELECT contract FROM provider_sites WHERE npi = ? ORDER BY site_key`
	siteRecordsSQL = `SELECT record FROM provider_sites
		WHERE contract_from <= ? AND (contract_to = 0 OR contract_to >= ?) ORDER BY county, npi, site_key`
)

// siteRow is a site as sitePutSQL stores it.
type siteRow struct {
	contract string // domain.ProviderContract as JSON
	args     []any  // sitePutSQL's arguments but the last (loaded_at)
}

func newSiteRow(file string, site *ProviderSite) (siteRow, error) {
	c := &site.Contract
	contract, err := json.Marshal(c)
	if err != nil {
		return siteRow{}, fmt.Errorf("store: roster %s row %d: %w", file, site.SourceRow, err)
	}
	return siteRow{contract: string(contract),
		args: []any{c.NPI, site.Key, c.County, int64(c.From), int64(c.To), string(contract), site.Record, file, site.SourceRow}}, nil
}

// count adds a site to the load's counts, given the stored row it
// replaces (found false: none).
func (res *RosterLoad) count(site *ProviderSite, row siteRow, found bool, oldContract string, oldRecord []byte) {
	switch {
	case !found:
		res.Inserted++
	case oldContract == row.contract && bytes.Equal(oldRecord, site.Record):
		res.Unchanged++
	default:
		res.Updated++
	}
}

// decodeContract reads a contract as provider_sites keeps it.
func decodeContract(rec string) (domain.ProviderContract, error) {
	var c domain.ProviderContract
	if err := json.Unmarshal([]byte(rec), &c); err != nil {
		return c, fmt.Errorf("store: provider contract record: %w", err)
	}
	return c, nil
}

// LoadRoster upserts the sites of one roster file in one transaction:
// either every site is stored or none. sum is the file's SHA-256; a file
// loaded before is not loaded again.
func (s *SQLite) LoadRoster(ctx context.Context, file string, sum [32]byte, sites []ProviderSite) (RosterLoad, error) {
	res := RosterLoad{Sites: len(sites)}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	defer tx.Rollback()
	hash := hex.EncodeToString(sum[:])
	var at string
	err = tx.QueryRowContext(ctx, rosterPriorSQL, hash).Scan(&res.PriorName, &at)
	switch {
	case err == nil:
		res.AlreadyLoaded = true
		res.PriorAt, _ = time.Parse(time.RFC3339Nano, at)
		return res, nil
	case !errors.Is(err, sql.ErrNoRows):
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	loaded := now()
	// Prepared once: preparing each statement per site took a third of
	// the load of a 50,000-site roster.
	get, err := tx.PrepareContext(ctx, siteGetSQL)
	if err != nil {
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	defer get.Close()
	put, err := tx.PrepareContext(ctx, sitePutSQL)
	if err != nil {
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	defer put.Close()
	for i := range sites {
		site := &sites[i]
		row, err := newSiteRow(file, site)
		if err != nil {
			return res, err
		}
		var oldContract string
		var oldRecord []byte
		err = get.QueryRowContext(ctx, site.Contract.NPI, site.Key).Scan(&oldContract, &oldRecord)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return res, fmt.Errorf("store: roster %s row %d: %w", file, site.SourceRow, err)
		}
		res.count(site, row, err == nil, oldContract, oldRecord)
		if _, err := put.ExecContext(ctx, append(row.args, loaded)...); err != nil {
			return res, fmt.Errorf("store: roster %s row %d: %w", file, site.SourceRow, err)
		}
	}
	if _, err := tx.ExecContext(ctx, rosterAddSQL, hash, file, len(sites), loaded); err != nil {
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("store: load roster %s: %w", file, err)
	}
	return res, nil
}

// RosterLoaded reports whether any roster file has been loaded.
func (s *SQLite) RosterLoaded(ctx context.Context) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, rosterCountSQL).Scan(&n); err != nil {
		return false, fmt.Errorf("store: roster: %w", err)
	}
	return n > 0, nil
}

// Contracts returns the contract of every site of the provider with this
// NPI, none when the roster does not know it. It makes *SQLite a
// domain.ProviderDirectory.
func (s *SQLite) Contracts(ctx context.Context, npi string) ([]domain.ProviderContract, error) {
	rows, err := s.db.QueryContext(ctx, contractsSQL, npi)
	if err != nil {
		return nil, fmt.Errorf("store: provider contracts: %w", err)
	}
	defer rows.Close()
	return readContracts(rows)
}

// readContracts reads the rows of a contractsSQL query (either engine's).
func readContracts(rows resultRows) ([]domain.ProviderContract, error) {
	var out []domain.ProviderContract
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return nil, fmt.Errorf("store: provider contracts: %w", err)
		}
		c, err := decodeContract(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: provider contracts: %w", err)
	}
	return out, nil
}

// ProviderSiteRecords returns the full records of the sites whose
// contract is in force on at least one day of [from, to], ordered by
// county, NPI and site key.
func (s *SQLite) ProviderSiteRecords(ctx context.Context, from, to civil.Date) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, siteRecordsSQL, int64(to), int64(from))
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
	return out, rows.Err()
}

var _ domain.ProviderDirectory = (*SQLite)(nil)
