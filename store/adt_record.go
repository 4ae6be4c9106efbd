package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

// adtDB is what the ADT logic needs of a transaction, on either engine.
// Statements are written with ? placeholders.
type adtDB interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	// row scans one row; found is false when there is none.
	row(ctx context.Context, q string, args []any, dest ...any) (found bool, err error)
	rows(ctx context.Context, q string, args []any, each func(scan func(dest ...any) error) error) error
	member(ctx context.Context, cin string) (bool, error)
	// insertIDs runs q, an INSERT of len(ids) rows into a table whose
	// engine assigns the id, and fills ids with the rows' ids in order.
	insertIDs(ctx context.Context, q string, args []any, ids []int64) error
	// execLater runs an UPDATE whose outcome nothing reads until the batch
	// ends, in order with the other statements; done gets its rows
	// affected (on PostgreSQL, many such statements share a round trip).
	execLater(ctx context.Context, q string, args []any, done func(int64)) error
	// flush runs what execLater queued.
	flush(ctx context.Context) error
	// rawKeys tells whether the store may hold keys an earlier release
	// stored with the raw bytes of a value that was not UTF-8 (SQLite's
	// text columns took them; PostgreSQL's refused them).
	rawKeys() bool
}

// Multi-row statements: at most adtRows rows per INSERT and adtKeys keys
// per IN list (powers of two; a shorter INSERT is split into powers of two
// and a shorter IN list is padded, so few statement texts are prepared).
const (
	adtRows = 64
	adtKeys = 256
)

const adtEventInsert = `INSERT INTO adt_events(sender, system_id, control_id, trigger_event, kind, cin, event_time, message_time,
	facility, class, admission_type, visit, admit, discharge, disposition, diagnoses, prior_cin, source, position, received_at) VALUES `

// adtEventCols is the number of columns adtEventInsert writes.
const adtEventCols = 20

const adtExceptionInsert = `INSERT INTO adt_exceptions(sender, control_id, source, position, line, reason, received_at, message) VALUES `

// valuesSQL returns rows tuples of cols placeholders: (?, ?), (?, ?).
func valuesSQL(rows, cols int) string {
	row := "(" + strings.Repeat("?, ", cols-1) + "?)"
	return strings.Repeat(row+", ", rows-1) + row
}

// chunk returns the rows of the next statement for n rows left: the
// largest power of two up to max (a power of two) not above n.
func chunk(n, max int) int {
	k := max
	for k > n {
		k /= 2
	}
	return k
}

// inSQL returns an IN list of adtKeys placeholders, and args padded with
// its first value to fill it.
func inSQL(args []any) (string, []any) {
	for len(args) < adtKeys {
		args = append(args, args[0])
	}
	return "(" + strings.Repeat("?, ", adtKeys-1) + "?)", args
}

// adtVisitKinds are the kinds an A08 updates: the events of a visit.
var adtVisitKinds = map[domain.ADTKind]bool{
	domain.ADTAdmit: true, domain.ADTTransfer: true, domain.ADTDischarge: true, domain.ADTRegister: true,
	domain.ADTPreadmit: true, domain.ADTToInpatient: true, domain.ADTToOutpatient: true,
}

// adtRow is an event waiting for its multi-row INSERT.
type adtRow struct {
	item                                  int // its item's index
	sender                                string
	systemID                              int64 // adt_systems
	controlID, trigger, kind, cin         string
	eventTime, messageTime                int64
	facility, class, admissionType, visit string
	admit, discharge                      int64
	disposition, diagnoses, priorCIN      string
	source                                string
	position, receivedAt                  int64
}

func (r *adtRow) args(args []any, box *adtBoxes) []any {
	return append(args, box.sender.of(r.sender), r.systemID, r.controlID, r.trigger, r.kind, r.cin, r.eventTime, r.messageTime, r.facility, r.class, r.admissionType, r.visit,
		r.admit, r.discharge, r.disposition, r.diagnoses, r.priorCIN, box.source.of(r.source), r.position, box.receivedAt.of(r.receivedAt))
}

// adtBoxes keeps the values most rows of a batch share (their sender,
// source and receive time) as the interface values a statement's
// arguments are: made once, not once a row.
type adtBoxes struct {
	sender, source boxed[string]
	receivedAt     boxed[int64]
}

// boxed is the last value given to of, and it as an interface value.
type boxed[T comparable] struct {
	v   T
	box any
}

func (b *boxed[T]) of(v T) any {
	if b.box == nil || v != b.v {
		b.v, b.box = v, v
	}
	return b.box
}

// adtSystem is a sending system: the sender profile, MSH-3.1 and MSH-4.1
// (domain.SendingID).
type adtSystem struct{ sender, application, facility string }

func systemOf(it *ADTItem) adtSystem {
	return adtSystem{it.Sender, domain.SendingID(it.SendingApplication), domain.SendingID(it.SendingFacility)}
}

// adtVisit names the events an A08 updates.
type adtVisit struct {
	system     adtSystem
	cin, visit string
}

// adtBatch is one RecordADT call: the members and merges read for its
// messages, and the events and exceptions waiting for their INSERTs.
type adtBatch struct {
	db      adtDB
	members *knownMembers
	items   []ADTItem
	out     []ADTOutcome
	known   map[string]bool // CIN → in the enrollment data
	// merges maps a prior CIN to its surviving CIN, for every CIN of the
	// batch that adt_merges lists (nil when adt_merges is empty).
	merges map[string]string
	// events wait for their INSERT, in order; visits lists those an A08
	// may update (indexes into events).
	events     []adtRow
	visits     map[adtVisit][]int
	exceptions []int // items waiting to be inserted as exceptions
	// keys are the items' adt_messages keys ("" without MSH-10); unknown
	// those of the exceptions waiting whose member is unknown, for
	// adt_unknown_keys; revived the duplicates of such an exception,
	// recorded again since their member may be known now.
	keys    []string
	unknown []any
	revived map[int]bool
	// systems maps the sending systems of the batch's events to their
	// adt_systems IDs.
	systems map[adtSystem]int64
	box     adtBoxes
	args    []any
	ids     []int64
}

// recordADT records items in order (ADTStore.RecordADT). Every MSH-10 of
// the batch goes into adt_messages first, in multi-row INSERTs whose
// unique key tells the duplicates; the batch's merges and members are read
// in a few queries; events and exceptions are inserted many rows per
// statement. An A08 updates the stored events of its visit and those still
// waiting; a cancel or a merge first inserts the events waiting, so it
// sees every event before it.
func recordADT(ctx context.Context, db adtDB, members *knownMembers, items []ADTItem) ([]ADTOutcome, error) {
	b := &adtBatch{db: db, members: members, items: items, out: make([]ADTOutcome, len(items)), known: map[string]bool{}, visits: map[adtVisit][]int{}, systems: map[adtSystem]int64{},
		args: make([]any, 0, adtRows*adtEventCols), ids: make([]int64, adtRows)}
	// The statements run without ctx's cancellation, which the drivers
	// watch with a goroutine per statement; ctx is checked before each
	// message instead, and the transaction rolls back when it is done.
	stmtCtx := context.WithoutCancel(ctx)
	if err := b.dedupe(stmtCtx); err != nil {
		return nil, fmt.Errorf("store: ADT messages: %w", err)
	}
	if err := b.revive(stmtCtx); err != nil {
		return nil, fmt.Errorf("store: ADT messages of unknown members: %w", err)
	}
	if err := b.lookUp(stmtCtx); err != nil {
		return nil, fmt.Errorf("store: ADT members: %w", err)
	}
	for i := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if b.out[i].Status == ADTDuplicate {
			continue
		}
		if err := b.record(stmtCtx, i); err != nil {
			it := &items[i]
			return nil, fmt.Errorf("store: ADT message %d of %s: %w", it.Position, it.Source, err)
		}
	}
	if err := b.flushEvents(stmtCtx); err != nil {
		return nil, fmt.Errorf("store: ADT events: %w", err)
	}
	if err := b.flushExceptions(stmtCtx); err != nil {
		return nil, fmt.Errorf("store: ADT exceptions: %w", err)
	}
	if err := b.db.flush(stmtCtx); err != nil {
		return nil, fmt.Errorf("store: ADT updates: %w", err)
	}
	return b.out, nil
}

// dedupe inserts the batch's keys (domain.SenderKey) into adt_messages and
// marks the duplicates: an item whose key the store held before, or an
// earlier item of the batch had, or whose profile and MSH-10
// adt_legacy_messages holds. Each chunk of keys is inserted ignoring
// conflicts inside a savepoint: when it inserted every key (no duplicate,
// the usual case) that is all; otherwise it is rolled back and inserted
// again returning the keys it inserted, which tells the duplicates.
func (b *adtBatch) dedupe(ctx context.Context) error {
	var with []int // items with a control ID
	for i := range b.items {
		if b.items[i].ControlID != "" {
			with = append(with, i)
		}
	}
	keys := make([]string, len(b.items))
	for _, i := range with {
		it := &b.items[i]
		keys[i] = domain.SenderKey(it.Sender, it.SendingApplication, it.SendingFacility, it.ControlID)
	}
	b.keys = keys
	for start := 0; start < len(with); {
		k := chunk(len(with)-start, adtRows*2)
		if err := b.dedupeChunk(ctx, with[start:start+k], keys); err != nil {
			return err
		}
		start += k
	}
	if err := b.dedupeRaw(ctx, with, keys); err != nil {
		return err
	}
	return b.dedupeLegacy(ctx, with)
}

// rawControlID is the MSH-10 an earlier release stored for it: its raw
// bytes (domain.RawKeyText), when the store may hold such keys and they
// differ from it; else "".
func (b *adtBatch) rawControlID(it *ADTItem) string {
	if !b.db.rawKeys() {
		return ""
	}
	if raw := domain.RawKeyText(it.ControlID); raw != it.ControlID {
		return raw
	}
	return ""
}

// dedupeRaw marks as duplicates the items of with not marked yet whose
// key, written with the raw bytes of their MSH-3.1, MSH-4.1 and MSH-10
// (domain.RawKeyText), an earlier release stored: a message with bytes
// that are not UTF-8 in those fields, sent again. One look-up per such
// message (a sender writing Latin-1 in its header), none for the others.
// keys are the items' keys as dedupe wrote them.
func (b *adtBatch) dedupeRaw(ctx context.Context, with []int, keys []string) error {
	if !b.db.rawKeys() {
		return nil
	}
	for _, i := range with {
		it := &b.items[i]
		if b.out[i].Status == ADTDuplicate || !strings.Contains(it.ControlID, `\x`) && !strings.Contains(it.SendingApplication, `\x`) && !strings.Contains(it.SendingFacility, `\x`) {
			continue // plain text: written as it was, the usual case
		}
		raw := domain.SenderKey(it.Sender, domain.RawKeyText(it.SendingApplication), domain.RawKeyText(it.SendingFacility), domain.RawKeyText(it.ControlID))
		if raw == keys[i] {
			continue
		}
		var n int64
		if _, err := b.db.row(ctx, `SELECT count(*) FROM adt_messages WHERE message_key = ?`, []any{raw}, &n); err != nil {
			return err
		}
		if n > 0 {
			b.out[i].Status = ADTDuplicate
		}
	}
	return nil
}

// dedupeChunk inserts the keys of items (at most adtRows*2, a power of
// two) and marks their duplicates.
func (b *adtBatch) dedupeChunk(ctx context.Context, items []int, keys []string) error {
	args := b.args[:0]
	for _, i := range items {
		args = append(args, keys[i], millis(b.items[i].ReceivedAt))
	}
	b.args = args
	insert := `INSERT INTO adt_messages(message_key, received_at) VALUES ` + valuesSQL(len(items), 2) + ` ON CONFLICT DO NOTHING`
	if _, err := b.db.exec(ctx, `SAVEPOINT adt_messages`); err != nil {
		return err
	}
	n, err := b.db.exec(ctx, insert, args...)
	if err != nil {
		return err
	}
	if n != int64(len(items)) {
		if _, err := b.db.exec(ctx, `ROLLBACK TO SAVEPOINT adt_messages`); err != nil {
			return err
		}
		fresh := make(map[string]bool, len(items))
		err := b.db.rows(ctx, insert+` RETURNING message_key`, args, func(scan func(...any) error) error {
			var key string
			if err := scan(&key); err != nil {
				return err
			}
			fresh[key] = true
			return nil
		})
		if err != nil {
			return err
		}
		for _, i := range items {
			if fresh[keys[i]] {
				delete(fresh, keys[i]) // a later item with the key is a duplicate
				continue
			}
			b.out[i].Status = ADTDuplicate
		}
	}
	_, err = b.db.exec(ctx, `RELEASE SAVEPOINT adt_messages`)
	return err
}

// adtLegacySlack is how much later than the last message recorded under
// the old keys (adt_legacy_until) a message may say it was written (MSH-7)
// and still be looked up in adt_legacy_messages: a resend carries the
// MSH-7 of its first sending, so only a sender's clock or time zone set
// wrong by more than this could make a resend look new (and it would be
// stored twice, never lost).
const adtLegacySlack = 48 * time.Hour

// dedupeLegacy marks as duplicates the items of with not marked yet whose
// profile and MSH-10 adt_legacy_messages holds: messages recorded when the
// key was the profile and MSH-10 alone. Only an item written (MSH-7) up
// to adtLegacySlack after the last of those was received, or without an
// MSH-7, is looked up. Their new keys stay inserted, so a later resend is
// found in adt_messages. A store that began with sending-system keys, or
// a batch of messages written after the upgrade, costs one query.
func (b *adtBatch) dedupeLegacy(ctx context.Context, with []int) error {
	if len(with) == 0 {
		return nil
	}
	var until int64
	found, err := b.db.row(ctx, `SELECT received_at FROM adt_legacy_until`, nil, &until)
	if err != nil || !found || until == 0 {
		return err
	}
	limit := until + adtLegacySlack.Milliseconds()
	var senders []string
	bySender := map[string][]int{}
	for _, i := range with {
		if b.out[i].Status == ADTDuplicate {
			continue
		}
		if written := millis(b.items[i].Event.MessageTime); written > limit {
			continue
		}
		s := b.items[i].Sender
		if _, ok := bySender[s]; !ok {
			senders = append(senders, s)
		}
		bySender[s] = append(bySender[s], i)
	}
	old := map[string]bool{}
	for _, s := range senders {
		items := bySender[s]
		step := adtKeys
		if b.db.rawKeys() {
			step = adtKeys / 2 // room for each raw MSH-10 too
		}
		for start := 0; start < len(items); start += step {
			part := items[start:min(start+step, len(items))]
			args := b.args[:0]
			for _, i := range part {
				args = append(args, b.items[i].ControlID)
				if raw := b.rawControlID(&b.items[i]); raw != "" {
					args = append(args, raw)
				}
			}
			in, args := inSQL(args)
			b.args = args
			clear(old)
			err := b.db.rows(ctx, `SELECT control_id FROM adt_legacy_messages WHERE sender = ? AND control_id IN `+in, append([]any{s}, args...),
				func(scan func(...any) error) error {
					var id string
					if err := scan(&id); err != nil {
						return err
					}
					old[id] = true
					return nil
				})
			if err != nil {
				return err
			}
			for _, i := range part {
				it := &b.items[i]
				if raw := b.rawControlID(it); old[it.ControlID] || raw != "" && old[raw] {
					b.out[i].Status = ADTDuplicate
				}
			}
		}
	}
	return nil
}

// lookUp reads the merges of the batch's CINs and whether the CINs (and
// those they merged into) are members.
func (b *adtBatch) lookUp(ctx context.Context) error {
	var cins []string
	seen := map[string]bool{}
	add := func(cin string) {
		if !seen[cin] {
			seen[cin] = true
			cins = append(cins, cin)
		}
	}
	for i := range b.items {
		if it := &b.items[i]; b.out[i].Status != ADTDuplicate && it.Problem == "" && it.Event.CIN != "" {
			add(it.Event.CIN)
		}
	}
	if len(cins) == 0 {
		return nil
	}
	var one int
	found, err := b.db.row(ctx, `SELECT 1 FROM adt_merges LIMIT 1`, nil, &one)
	if err != nil {
		return err
	}
	if found {
		b.merges = map[string]string{}
		n := len(cins)
		for start := 0; start < n; start += adtKeys {
			args := b.args[:0]
			for _, c := range cins[start:min(start+adtKeys, n)] {
				args = append(args, c)
			}
			in, args := inSQL(args)
			err := b.db.rows(ctx, `SELECT prior_cin, cin FROM adt_merges WHERE prior_cin IN `+in, args, func(scan func(...any) error) error {
				var prior, cin string
				if err := scan(&prior, &cin); err != nil {
					return err
				}
				b.merges[prior] = cin
				add(cin)
				return nil
			})
			if err != nil {
				return err
			}
		}
	}
	// A CIN that packs exactly into its key is known by the key alone (and
	// one read in the enrollment data before is known still); any other is
	// looked up (memberKnown) when a message needs it.
	keys := make(map[int64]string, len(cins))
	var list []any
	for _, c := range cins {
		if k := CINKey(c); k >= 0 {
			if b.members.has(k) {
				b.known[c] = true
				continue
			}
			keys[k] = c
			b.known[c] = false
			list = append(list, k)
		}
	}
	var read []int64
	for start := 0; start < len(list); start += adtKeys {
		in, args := inSQL(append(b.args[:0], list[start:min(start+adtKeys, len(list))]...))
		err := b.db.rows(ctx, `SELECT cin_key FROM enrollment_members WHERE cin_key IN `+in, args, func(scan func(...any) error) error {
			var k int64
			if err := scan(&k); err != nil {
				return err
			}
			b.known[keys[k]] = true
			read = append(read, k)
			return nil
		})
		if err != nil {
			return err
		}
	}
	b.members.add(read)
	return nil
}

// knownMembers are CIN keys (CINKey) read in enrollment_members by earlier
// batches: a member is never deleted from the enrollment data, so a CIN
// found there once is a member for every later message, and is not read
// again. A CIN not found is not kept (an enrollment load may add it).
// Holds at most knownMembersMax keys; the zero value is empty and ready.
type knownMembers struct {
	mu   sync.Mutex
	keys map[int64]struct{}
}

// knownMembersMax bounds knownMembers (about 40 bytes a key, 10 MB in
// all): members found once it is full are read from the store each batch.
const knownMembersMax = 1 << 18

func (m *knownMembers) has(k int64) bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	_, ok := m.keys[k]
	m.mu.Unlock()
	return ok
}

func (m *knownMembers) add(keys []int64) {
	if m == nil || len(keys) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[int64]struct{}{}
	}
	for _, k := range keys {
		if len(m.keys) >= knownMembersMax {
			return
		}
		m.keys[k] = struct{}{}
	}
}

// systemID returns the adt_systems ID of sys, adding it when it is new.
func (b *adtBatch) systemID(ctx context.Context, sys adtSystem) (int64, error) {
	if id, ok := b.systems[sys]; ok {
		return id, nil
	}
	const find = `SELECT system_id FROM adt_systems WHERE profile = ? AND sending_application = ? AND sending_facility = ?`
	args := []any{sys.sender, sys.application, sys.facility}
	var id int64
	found, err := b.db.row(ctx, find, args, &id)
	if err == nil && !found {
		if _, err = b.db.exec(ctx, `INSERT INTO adt_systems(profile, sending_application, sending_facility) VALUES (?, ?, ?)`, args...); err == nil {
			found, err = b.db.row(ctx, find, args, &id)
		}
	}
	if err != nil {
		return 0, fmt.Errorf("sending system: %w", err)
	}
	if !found {
		return 0, errors.New("sending system: not found after it was added")
	}
	b.systems[sys] = id
	return id, nil
}

// memberKnown reports whether cin is in the enrollment data: a CIN that
// packs exactly into its key (CINKey ≥ 0) by the key alone, any other by
// the CIN stored with its member.
func memberKnown(ctx context.Context, db adtDB, cin string) (bool, error) {
	if k := CINKey(cin); k >= 0 {
		var one int
		return db.row(ctx, `SELECT 1 FROM enrollment_members WHERE cin_key = ?`, []any{k}, &one)
	}
	return db.member(ctx, cin)
}

func (b *adtBatch) exception(ctx context.Context, i int, reason string) error {
	b.out[i] = ADTOutcome{Status: ADTException, Reason: reason}
	if reason == ADTUnknownMember && b.keys[i] != "" {
		b.unknown = append(b.unknown, b.keys[i])
	}
	b.exceptions = append(b.exceptions, i)
	if len(b.exceptions) == adtRows {
		return b.flushExceptions(ctx)
	}
	return nil
}

// record records item i, not a duplicate.
func (b *adtBatch) record(ctx context.Context, i int) error {
	it := &b.items[i]
	if it.Problem != "" {
		return b.exception(ctx, i, it.Problem)
	}
	ev := &it.Event
	cin := ev.CIN
	if cin == "" {
		return b.exception(ctx, i, ADTNoCIN)
	}
	// A CIN merged into another is read as the surviving one.
	if survivor, ok := b.merges[cin]; ok {
		cin = survivor
	}
	known, ok := b.known[cin]
	if !ok {
		var err error
		if known, err = memberKnown(ctx, b.db, cin); err != nil {
			return err
		}
		b.known[cin] = known
	}
	if !known {
		if b.revived[i] {
			b.out[i].Status = ADTDuplicate // still unknown: its exception stands
			return nil
		}
		return b.exception(ctx, i, ADTUnknownMember)
	}
	if b.revived[i] {
		if _, err := b.db.exec(ctx, `DELETE FROM adt_unknown_keys WHERE message_key = ?`, b.keys[i]); err != nil {
			return err
		}
	}
	o := &b.out[i]
	o.Status = ADTStored
	recv := millis(it.ReceivedAt)
	sys := systemOf(it)
	sysID, err := b.systemID(ctx, sys)
	if err != nil {
		return err
	}
	diagnoses := encodeDiagnoses(ev.Diagnoses)
	if ev.Kind == domain.ADTMerge && ev.PriorCIN != "" && ev.PriorCIN != cin {
		if err := b.flushEvents(ctx); err != nil {
			return err
		}
		n, err := b.db.exec(ctx, `UPDATE adt_events SET cin = ? WHERE cin = ?`, cin, ev.PriorCIN)
		if err != nil {
			return err
		}
		o.Merged = n
		if _, err := b.db.exec(ctx, `UPDATE adt_merges SET cin = ? WHERE cin = ?`, cin, ev.PriorCIN); err != nil {
			return err
		}
		if _, err := b.db.exec(ctx, `INSERT INTO adt_merges(prior_cin, cin, control_id, merged_at, sender, sending_application, sending_facility)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (prior_cin) DO UPDATE SET cin = excluded.cin, control_id = excluded.control_id, merged_at = excluded.merged_at,
			sender = excluded.sender, sending_application = excluded.sending_application, sending_facility = excluded.sending_facility`,
			ev.PriorCIN, cin, ev.ControlID, recv, sys.sender, sys.application, sys.facility); err != nil {
			return err
		}
		if b.merges == nil {
			b.merges = map[string]string{}
		}
		for prior, to := range b.merges {
			if to == ev.PriorCIN {
				b.merges[prior] = cin
			}
		}
		b.merges[ev.PriorCIN] = cin
	}
	if kinds := adtCancels[ev.Kind]; len(kinds) > 0 {
		if err := b.flushEvents(ctx); err != nil {
			return err
		}
		// The cancel's own sending system's events, and those of its
		// profile stored before the sending system was kept.
		q := `SELECT id FROM adt_events WHERE cin = ? AND cancelled_by = '' AND sender = ? AND (system_id IS NULL OR system_id = ?)
			AND kind IN (` + strings.TrimSuffix(strings.Repeat("?,", len(kinds)), ",") + `)`
		args := []any{cin, sys.sender, sysID}
		for _, k := range kinds {
			args = append(args, string(k))
		}
		if ev.VisitNumber != "" {
			q += ` AND (visit = ? OR visit = '')`
			args = append(args, ev.VisitNumber)
		}
		q += ` ORDER BY event_time DESC, id DESC LIMIT 1`
		var id int64
		found, err := b.db.row(ctx, q, args, &id)
		if err != nil {
			return err
		}
		if found {
			if _, err := b.db.exec(ctx, `UPDATE adt_events SET cancelled_by = ? WHERE id = ?`, ev.ControlID, id); err != nil {
				return err
			}
			o.Cancelled = id
		}
	}
	if ev.Kind == domain.ADTUpdate && ev.VisitNumber != "" {
		admit, discharge := millis(ev.AdmitTime), millis(ev.DischargeTime)
		for _, j := range b.visits[adtVisit{sys, cin, ev.VisitNumber}] {
			r := &b.events[j]
			if ev.PatientClass != "" {
				r.class = ev.PatientClass
			}
			if ev.AdmissionType != "" {
				r.admissionType = ev.AdmissionType
			}
			if ev.Facility != "" {
				r.facility = ev.Facility
			}
			if ev.Disposition != "" {
				r.disposition = ev.Disposition
			}
			if diagnoses != "" {
				r.diagnoses = diagnoses
			}
			if admit != 0 {
				r.admit = admit
			}
			if discharge != 0 {
				r.discharge = discharge
			}
			o.Updated++
		}
		err := b.db.execLater(ctx, `UPDATE adt_events SET
			class = CASE WHEN ?1 = '' THEN class ELSE ?1 END,
			admission_type = CASE WHEN ?2 = '' THEN admission_type ELSE ?2 END,
			facility = CASE WHEN ?3 = '' THEN facility ELSE ?3 END,
			disposition = CASE WHEN ?4 = '' THEN disposition ELSE ?4 END,
			diagnoses = CASE WHEN ?5 = '' THEN diagnoses ELSE ?5 END,
			admit = CASE WHEN CAST(?6 AS BIGINT) = 0 THEN admit ELSE CAST(?6 AS BIGINT) END,
			discharge = CASE WHEN CAST(?7 AS BIGINT) = 0 THEN discharge ELSE CAST(?7 AS BIGINT) END
			WHERE cin = ?8 AND visit = ?9 AND sender = ?10 AND cancelled_by = ''
			AND (system_id IS NULL OR system_id = ?11)
			AND kind IN ('admit', 'transfer', 'discharge', 'register', 'preadmit', 'to-inpatient', 'to-outpatient')`,
			[]any{ev.PatientClass, ev.AdmissionType, ev.Facility, ev.Disposition, diagnoses, admit, discharge, cin, ev.VisitNumber, sys.sender, sysID},
			func(n int64) { o.Updated += n })
		if err != nil {
			return err
		}
	}
	if adtVisitKinds[ev.Kind] && ev.VisitNumber != "" {
		v := adtVisit{sys, cin, ev.VisitNumber}
		b.visits[v] = append(b.visits[v], len(b.events))
	}
	b.events = append(b.events, adtRow{item: i, sender: sys.sender, systemID: sysID, controlID: ev.ControlID, trigger: ev.Trigger, kind: string(ev.Kind), cin: cin,
		eventTime: millis(ev.EventTime), messageTime: millis(ev.MessageTime), facility: ev.Facility, class: ev.PatientClass, admissionType: ev.AdmissionType, visit: ev.VisitNumber,
		admit: millis(ev.AdmitTime), discharge: millis(ev.DischargeTime), disposition: ev.Disposition, diagnoses: diagnoses, priorCIN: ev.PriorCIN,
		source: it.Source, position: int64(it.Position), receivedAt: recv})
	if len(b.events) == adtRows {
		return b.flushEvents(ctx)
	}
	return nil
}

// flushEvents inserts the events waiting and gives their outcomes their IDs.
func (b *adtBatch) flushEvents(ctx context.Context) error {
	for start := 0; start < len(b.events); {
		k := chunk(len(b.events)-start, adtRows)
		args := b.args[:0]
		for j := start; j < start+k; j++ {
			args = b.events[j].args(args, &b.box)
		}
		ids := b.ids[:k]
		if err := b.db.insertIDs(ctx, adtEventInsert+valuesSQL(k, adtEventCols), args, ids); err != nil {
			return err
		}
		for j, id := range ids {
			b.out[b.events[start+j].item].EventID = id
		}
		start += k
	}
	b.events = b.events[:0]
	clear(b.visits)
	return nil
}

// flushExceptions inserts the exceptions waiting.
func (b *adtBatch) flushExceptions(ctx context.Context) error {
	for start := 0; start < len(b.exceptions); {
		k := chunk(len(b.exceptions)-start, adtRows)
		args := b.args[:0]
		for _, i := range b.exceptions[start : start+k] {
			it := &b.items[i]
			raw := it.Raw
			if raw == nil {
				raw = []byte{}
			}
			args = append(args, it.Sender, it.ControlID, it.Source, it.Position, it.Line, b.out[i].Reason, millis(it.ReceivedAt), raw)
		}
		if _, err := b.db.exec(ctx, adtExceptionInsert+valuesSQL(k, 8), args...); err != nil {
			return err
		}
		start += k
	}
	b.exceptions = b.exceptions[:0]
	for start := 0; start < len(b.unknown); {
		k := chunk(len(b.unknown)-start, adtRows)
		if _, err := b.db.exec(ctx, `INSERT INTO adt_unknown_keys(message_key) VALUES `+valuesSQL(k, 1)+` ON CONFLICT DO NOTHING`, b.unknown[start:start+k]...); err != nil {
			return err
		}
		start += k
	}
	b.unknown = b.unknown[:0]
	return nil
}

// revive takes back from the duplicates the first item of each key
// adt_unknown_keys holds: a message kept as an exception because its
// member was not in the enrollment data, sent again. record stores it
// when an 834 has brought the member since, and leaves it a duplicate
// (its exception standing) when not, so that a message read twice (a
// resend, a file or inbox read again after a crash) is never two
// exceptions. One look-up per batch holding duplicates, none otherwise.
func (b *adtBatch) revive(ctx context.Context) error {
	var dups []any
	for i := range b.items {
		if b.out[i].Status == ADTDuplicate && b.keys[i] != "" {
			dups = append(dups, b.keys[i])
		}
	}
	held := map[string]bool{}
	for start := 0; start < len(dups); start += adtKeys {
		in, args := inSQL(append([]any(nil), dups[start:min(start+adtKeys, len(dups))]...))
		err := b.db.rows(ctx, `SELECT message_key FROM adt_unknown_keys WHERE message_key IN `+in, args, func(scan func(...any) error) error {
			var key string
			if err := scan(&key); err != nil {
				return err
			}
			held[key] = true
			return nil
		})
		if err != nil {
			return err
		}
	}
	for i := range b.items {
		if b.out[i].Status == ADTDuplicate && held[b.keys[i]] {
			delete(held, b.keys[i]) // a later item with the key stays a duplicate
			if b.revived == nil {
				b.revived = map[int]bool{}
			}
			b.revived[i] = true
			b.out[i].Status = ""
		}
	}
	return nil
}
