package store

import (
	"strings"
	"testing"
)

// dollars and its cached form pgSQL rewrite the placeholders of every
// PostgreSQL statement the store runs.
func TestPgSQL(t *testing.T) {
	tests := []struct{ in, want string }{
		{`SELECT ? FROM t WHERE a = ?`, `SELECT $1 FROM t WHERE a = $2`},
		{`UPDATE t SET a = CASE WHEN ?1 = '' THEN a ELSE ?1 END WHERE b = ?12`, `UPDATE t SET a = CASE WHEN $1 = '' THEN a ELSE $1 END WHERE b = $12`},
		{`no placeholders`, `no placeholders`},
		{`?`, `$1`},
	}
	for _, tt := range tests {
		for name, f := range map[string]func(string) string{"dollars": dollars, "pgSQL": pgSQL} {
			if got := f(tt.in); got != tt.want {
				t.Errorf("%s(%q) = %q, want %q", name, tt.in, got, tt.want)
			}
		}
	}
}

// Every query of the ADT events, and the look-up of the keys stored before
// sending systems, finds its rows through an index: none reads the whole
// table.
func TestSQLiteADTQueriesUseIndexes(t *testing.T) {
	s, _ := openTest(t)
	queries := []string{
		// cancels, with and without a visit number
		`SELECT id FROM adt_events WHERE cin = ? AND cancelled_by = '' AND sender = ? AND (system_id IS NULL OR system_id = ?)
			AND kind IN (?, ?) ORDER BY event_time DESC, id DESC LIMIT 1`,
		`SELECT id FROM adt_events WHERE cin = ? AND cancelled_by = '' AND sender = ? AND (system_id IS NULL OR system_id = ?)
			AND kind IN (?, ?) AND (visit = ? OR visit = '') ORDER BY event_time DESC, id DESC LIMIT 1`,
		// merges, A08s
		`UPDATE adt_events SET cin = ? WHERE cin = ?`,
		`UPDATE adt_events SET class = ?1 WHERE cin = ?2 AND visit = ?3 AND sender = ?4 AND cancelled_by = ''
			AND (system_id IS NULL OR system_id = ?5)`,
		// ADTEvents, ADTEventsBetween, PendingADTNotices
		adtEventSelect + ` WHERE cin = ? ORDER BY event_time, id`,
		adtEventSelect + ` WHERE event_time >= ? AND event_time < ? AND cancelled_by = '' ORDER BY event_time, id`,
		adtEventSelect + ` WHERE noticed = 0 ORDER BY id LIMIT 100`,
		// the providers notified of the events the cancels waiting cancelled
		adtCancelledNotified,
		// a sending system's ID
		`SELECT system_id FROM adt_systems WHERE profile = ? AND sending_application = ? AND sending_facility = ?`,
		// the keys of the messages recorded before sending systems
		`SELECT control_id FROM adt_legacy_messages WHERE sender = ? AND control_id IN (?, ?, ?)`,
	}
	for _, q := range queries {
		n := strings.Count(q, "?")
		if strings.Contains(q, "?1") {
			n = 5
		}
		args := make([]any, n)
		for i := range args {
			args[i] = "x"
		}
		rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		// Every table the plan reads, it reads through an index (or the
		// primary key).
		indexed := len(plan) > 0
		for _, step := range plan {
			if (strings.HasPrefix(step, "SCAN ") || strings.HasPrefix(step, "SEARCH ")) && !strings.Contains(step, " USING ") {
				indexed = false
			}
		}
		if !indexed {
			t.Errorf("%s\nplan %q: reads a table without an index", q, plan)
		}
	}
}

// knownMembers keeps at most knownMembersMax keys; the keys past it are
// not kept (read from the store again), those before stay.
func TestKnownMembersBounded(t *testing.T) {
	var m knownMembers
	keys := make([]int64, knownMembersMax+10)
	for i := range keys {
		keys[i] = int64(i + 1)
	}
	m.add(keys[:10])
	m.add(keys[10:])
	if len(m.keys) != knownMembersMax || !m.has(1) || !m.has(knownMembersMax) || m.has(knownMembersMax+1) {
		t.Errorf("%d keys kept, has first %v, last kept %v, first past %v", len(m.keys), m.has(1), m.has(knownMembersMax), m.has(knownMembersMax+1))
	}
	var none *knownMembers
	none.add(keys[:1])
	if none.has(1) {
		t.Error("a nil knownMembers has a key")
	}
}
