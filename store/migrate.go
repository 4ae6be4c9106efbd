package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
)

// The schema is split into components (core, ledger, enrollment,
// providers), each an ordered list of migrations kept beside the code that
// uses its tables; a new migration is appended to its component's list,
// never inserted. The version applied per component is kept in
// schema_versions, and every migration not applied yet runs when a store
// opens. sqliteComponents lists them for SQLite, postgresComponents
// (postgres.go) for PostgreSQL.
var sqliteComponents = map[string][]string{
	"core":       sqliteCoreMigrations,
	"ledger":     sqliteLedgerMigrations,
	"enrollment": sqliteEnrollmentMigrations,
	"providers":  sqliteProvidersMigrations,
	"claims":     sqliteClaimsMigrations,
	"monitoring": sqliteMonitoringMigrations,
	"web":        sqliteWebMigrations,
	"inbox":      sqliteInboxMigrations,
	"adt":        sqliteADTMigrations,
	"inbound":    sqliteInboundMigrations,
}

func (s *SQLite) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_versions (
		component TEXT PRIMARY KEY,
		version   INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	names := make([]string, 0, len(sqliteComponents))
	for n := range sqliteComponents {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		migrations := sqliteComponents[name]
		var version int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_versions WHERE component = ?`, name).Scan(&version)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: migrate %s: %w", name, err)
		}
		if version > len(migrations) {
			return fmt.Errorf("store: %s has %s schema version %d, newer than this calgw knows (%d): upgrade calgw", s.path, name, version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("store: %s migration %d: %w", name, i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_versions(component, version) VALUES (?, ?)
			ON CONFLICT(component) DO UPDATE SET version = excluded.version`, name, len(migrations)); err != nil {
			return fmt.Errorf("store: migrate %s: %w", name, err)
		}
	}
	return tx.Commit()
}
