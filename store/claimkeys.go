package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The duplicate keys of a CLM01 corrected (sent_lines) follow what DHCS
// holds of it, and never leave out what it may hold:
//   - its standing submission is its latest that DHCS accepted (277CA F1,
//     EVR Accepted), else its first (the original, which keeps its keys
//     as sent when DHCS rejects it, as an uncorrected claim does);
//   - its keys sent are those of the standing submission's lines (none
//     for an accepted void) and of the lines of every later submission
//     still without a verdict (a replacement or void DHCS may yet accept
//     or reject);
//   - a submission DHCS rejected after the standing one adds none.
//
// So a replacement's lines count as sent as soon as it is sent, beside its
// original's; the original's keys the replacement no longer has are
// released only when DHCS accepts the replacement, and an accepted void
// releases every key of the claim. A rejected correction leaves the
// original standing: the keys only it added are released. An answer that
// changes (an EVR after a 277CA) moves the keys with it. A key another
// claim's line holds in sent_lines is left to that line, and the lines of
// a submission recorded before the store kept its lines are not known, so
// their keys stay as sent.

// encodeLines is the lines column of a submission: its lines' keys (hex),
// controls and line numbers as a JSON array ("" for none).
func encodeLines(lines []Line) string {
	if len(lines) == 0 {
		return ""
	}
	rows := make([][3]string, len(lines))
	for i, l := range lines {
		rows[i] = [3]string{hex.EncodeToString(l.Key[:]), l.Control, l.LineNo}
	}
	b, _ := json.Marshal(rows) // strings only: cannot fail
	return string(b)
}

// decodeLines reads a lines column (encodeLines) of a submission of
// invoice.
func decodeLines(s, invoice string) ([]Line, error) {
	if s == "" {
		return nil, nil
	}
	var rows [][3]string
	if err := json.Unmarshal([]byte(s), &rows); err != nil {
		return nil, err
	}
	lines := make([]Line, len(rows))
	for i, r := range rows {
		k, err := hex.DecodeString(r[0])
		if err != nil || len(k) != 16 {
			return nil, fmt.Errorf("line key %q is not 32 hexadecimal digits", r[0])
		}
		lines[i] = Line{Key: [16]byte(k), Control: r[1], Invoice: invoice, LineNo: r[2]}
	}
	return lines, nil
}

// recordCorrectionKeys records as sent by run the keys of the lines of
// claims that are corrections (SentClaim.Correction).
func recordCorrectionKeys(ctx context.Context, tx claimsTx, run int64, claims []SentClaim) error {
	for i := range claims {
		if claims[i].Correction {
			if err := reconcileKeys(ctx, tx, claims[i].CLM01, run); err != nil {
				return err
			}
		}
	}
	return nil
}

// heldLine is a line whose key a CLM01 holds, and the run that sent it.
type heldLine struct {
	run  int64
	line Line
}

// keySubmission is a submission of a CLM01 as reconcileKeys reads it.
type keySubmission struct {
	run               int64
	frequency, status string
	lines             []Line
}

// reconcileKeys makes the keys of clm01 in sent_lines those its
// submissions hold (see the top of this file). Inside a run (run > 0)
// it only adds the keys of that run's submissions, so that aborting the
// run gives back all it recorded; an answer (run 0) adds and releases.
func reconcileKeys(ctx context.Context, tx claimsTx, clm01 string, run int64) error {
	subs, err := keySubmissions(ctx, tx, clm01)
	if err != nil || len(subs) < 2 {
		return err
	}
	standing := 0
	for i, s := range subs {
		if s.status == EncounterAccepted {
			standing = i
		}
	}
	// held are the keys the CLM01 holds, each as the line of the
	// submission that holds it first.
	held := map[[16]byte]heldLine{}
	hold := func(s *keySubmission) {
		if s.frequency == "8" {
			return // a void holds no key
		}
		for _, l := range s.lines {
			if _, ok := held[l.Key]; !ok {
				held[l.Key] = heldLine{s.run, l}
			}
		}
	}
	hold(&subs[standing])
	for i := standing + 1; i < len(subs); i++ {
		if subs[i].status == EncounterSent {
			hold(&subs[i])
		}
	}
	ours := map[string]bool{} // the controls of the CLM01's lines
	for _, s := range subs {
		for _, l := range s.lines {
			ours[l.Control] = true
		}
	}
	done := map[[16]byte]bool{}
	for i := range subs {
		s := &subs[i]
		for j := range s.lines {
			l := &s.lines[j]
			if done[l.Key] {
				continue
			}
			done[l.Key] = true
			h, holds := held[l.Key]
			if run > 0 && (!holds || h.run != run) {
				continue // inside a run: only the keys of its own lines
			}
			control, sent, err := tx.sentControl(ctx, l.Key)
			if err != nil {
				return fmt.Errorf("store: keys of claim %s: %w", clm01, err)
			}
			switch {
			case !sent && holds:
				err = tx.insertSent(ctx, h.run, &h.line)
			case sent && !holds && ours[control]:
				err = tx.removeSent(ctx, l.Key, control)
			}
			if err != nil {
				return fmt.Errorf("store: keys of claim %s: %w", clm01, err)
			}
		}
	}
	return nil
}

// keySubmissions returns the submissions of clm01, in the order sent.
func keySubmissions(ctx context.Context, tx claimsTx, clm01 string) ([]keySubmission, error) {
	rows, err := tx.query(ctx, `SELECT run_id, frequency, status, invoice, lines FROM encounter_submissions WHERE clm01 = ? ORDER BY id`, clm01)
	if err != nil {
		return nil, fmt.Errorf("store: submissions of claim %s: %w", clm01, err)
	}
	defer rows.Close()
	var out []keySubmission
	for rows.Next() {
		var s keySubmission
		var invoice, lines string
		if err := rows.Scan(&s.run, &s.frequency, &s.status, &invoice, &lines); err != nil {
			return nil, fmt.Errorf("store: submissions of claim %s: %w", clm01, err)
		}
		if s.lines, err = decodeLines(lines, invoice); err != nil {
			return nil, fmt.Errorf("store: lines of a submission of claim %s: %w", clm01, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: submissions of claim %s: %w", clm01, err)
	}
	return out, nil
}

// queryStrings runs q, which selects one text column.
func queryStrings(ctx context.Context, tx claimsTx, q string, args ...any) ([]string, error) {
	rows, err := tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// sentControl returns the control of the line sent under key.
func (t sqliteClaimsTx) sentControl(ctx context.Context, key [16]byte) (string, bool, error) {
	l := Line{Key: key}
	hi, lo := l.halves()
	rows, err := t.tx.QueryContext(ctx, `SELECT control FROM sent_lines WHERE key_hi = ?1 AND key_lo = ?2
		UNION ALL SELECT control FROM sent_line_collisions WHERE key_hi = ?1 AND key_lo = ?2`, hi, lo)
	if err != nil {
		return "", false, err
	}
	defer rows.Close()
	var control string
	if !rows.Next() {
		return "", false, rows.Err()
	}
	if err := rows.Scan(&control); err != nil {
		return "", false, err
	}
	return control, true, rows.Close()
}

// insertSent records l as sent by run, beside a line sharing only the
// high half of its key (sent_line_collisions).
func (t sqliteClaimsTx) insertSent(ctx context.Context, run int64, l *Line) error {
	hi, lo := l.halves()
	res, err := t.tx.ExecContext(ctx, insertSentLine, hi, lo, run, l.Control, l.Invoice, l.LineNo)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	_, err = t.tx.ExecContext(ctx, `INSERT INTO sent_line_collisions(key_hi, key_lo, run_id, control, invoice, line_no)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, hi, lo, run, l.Control, l.Invoice, l.LineNo)
	return err
}

// removeSent releases the key of the line control sent.
func (t sqliteClaimsTx) removeSent(ctx context.Context, key [16]byte, control string) error {
	l := Line{Key: key}
	hi, lo := l.halves()
	for _, table := range []string{"sent_lines", "sent_line_collisions"} {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE key_hi = ? AND key_lo = ? AND control = ?`, hi, lo, control); err != nil {
			return err
		}
	}
	return nil
}

func (t pgClaimsTx) sentControl(ctx context.Context, key [16]byte) (string, bool, error) {
	var control string
	err := t.tx.QueryRow(ctx, `SELECT control FROM sent_lines WHERE key = $1`, pgtype.UUID{Bytes: key, Valid: true}).Scan(&control)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	return control, err == nil, err
}

func (t pgClaimsTx) insertSent(ctx context.Context, run int64, l *Line) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO sent_lines(key, run_id, control, invoice, line_no) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (key) DO NOTHING`, pgtype.UUID{Bytes: l.Key, Valid: true}, run, l.Control, l.Invoice, l.LineNo)
	return err
}

func (t pgClaimsTx) removeSent(ctx context.Context, key [16]byte, control string) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM sent_lines WHERE key = $1 AND control = $2`, pgtype.UUID{Bytes: key, Valid: true}, control)
	return err
}
