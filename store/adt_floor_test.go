package store

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkSQLiteRowFloor measures what one ADT-sized row costs SQLite
// alone, without the gateway's code: rows of 19 values, 64 a statement,
// 2,000 a transaction, on the store's own connection settings, into
// 300,000 rows, with the table alone and with each index an event
// maintains. The per-row figures (µs/row) bound how fast any ingest that
// writes one indexed row per message can be (docs/adt.md, Not done yet).
//
//	go test ./store -run XXX -bench SQLiteRowFloor -benchtime 1x
func BenchmarkSQLiteRowFloor(b *testing.B) {
	const rows, perStmt, perTx = 300000, 64, 2000
	cases := []struct {
		name   string
		schema []string
	}{
		{"table", nil},
		{"member-index", []string{`CREATE INDEX m ON ev(cin, visit)`}},
		{"adt-indexes", []string{`CREATE INDEX m ON ev(cin, visit)`, `CREATE INDEX t ON ev(event_time)`, `CREATE INDEX p ON ev(id) WHERE noticed = 0`}},
		{"adt-indexes+keys", []string{`CREATE INDEX m ON ev(cin, visit)`, `CREATE INDEX t ON ev(event_time)`, `CREATE INDEX p ON ev(id) WHERE noticed = 0`,
			`CREATE TABLE keys (k TEXT PRIMARY KEY)`}},
	}
	cols := []string{"cin TEXT", "visit TEXT", "event_time INTEGER", "noticed INTEGER"}
	for i := len(cols); i < 19; i++ {
		cols = append(cols, fmt.Sprintf("c%d TEXT", i))
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	insert := `INSERT INTO ev(` + floorColumns(cols) + `) VALUES ` + strings.TrimSuffix(strings.Repeat(row+",", perStmt), ",")
	insertKeys := `INSERT INTO keys VALUES ` + strings.TrimSuffix(strings.Repeat("(?),", perStmt), ",") + ` ON CONFLICT DO NOTHING`
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			keys := strings.HasSuffix(c.name, "+keys")
			for b.Loop() {
				b.StopTimer()
				db, err := sql.Open("sqlite", sqliteDSN(filepath.Join(b.TempDir(), "floor.db"), adtPageCacheKiB))
				if err != nil {
					b.Fatal(err)
				}
				db.SetMaxOpenConns(1)
				for _, q := range append([]string{`CREATE TABLE ev (id INTEGER PRIMARY KEY, ` + strings.Join(cols, ", ") + `)`}, c.schema...) {
					if _, err := db.Exec(q); err != nil {
						b.Fatal(err)
					}
				}
				r := rand.New(rand.NewPCG(1, 2))
				args := make([]any, 0, perStmt*len(cols))
				kargs := make([]any, 0, perStmt)
				b.StartTimer()
				for done := 0; done < rows; done += perTx {
					tx, err := db.Begin()
					if err != nil {
						b.Fatal(err)
					}
					for n := 0; n < perTx; n += perStmt {
						args, kargs = args[:0], kargs[:0]
						for i := range perStmt {
							args = append(args, fmt.Sprintf("9%07dA", r.IntN(10000)), fmt.Sprintf("V%d", r.IntN(1e6)), int64(1.7e12)+int64(done+n+i), 0)
							for range len(cols) - 4 {
								args = append(args, "ST MARYS")
							}
							kargs = append(kargs, fmt.Sprintf("adt|EPIC|STMARYS|%016x", r.Uint64()))
						}
						if _, err := tx.Exec(insert, args...); err != nil {
							b.Fatal(err)
						}
						if keys {
							if _, err := tx.Exec(insertKeys, kargs...); err != nil {
								b.Fatal(err)
							}
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				db.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(rows*b.N), "µs/row")
		})
	}
}

func floorColumns(cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i], _, _ = strings.Cut(c, " ")
	}
	return strings.Join(out, ", ")
}
