package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/calaim-gateway/calaim-gateway/domain"
)

// ADTItem is one ADT message to record: its event (mapped), or the problem
// that kept it from being one, and where it came from.
type ADTItem struct {
	Sender    string // the sender profile's name
	ControlID string // MSH-10 ("" for a message too broken to have one)
	Event     domain.ADTEvent

	// SendingApplication and SendingFacility are MSH-3.1 and MSH-4.1 ("" when
	// not sent, or the message too broken to read them): with Sender they
	// are the sending system (domain.SenderKey) whose MSH-10 is recorded
	// once, and whose own events its cancels and A08s change.
	SendingApplication, SendingFacility string

	// Problem is why the message is not an event ("" when it is): it goes
	// to the exceptions.
	Problem    string
	Source     string // the file (base name) or the inbox it came from
	Position   int    // the message's ordinal in its source
	Line       int    // the line of its MSH in the source
	ReceivedAt time.Time
	// Raw is the message as received, kept with an exception.
	Raw []byte
}

// ADT outcomes.
const (
	ADTStored    = "stored"    // a new event
	ADTDuplicate = "duplicate" // its sending system's MSH-10 was recorded before: nothing changed
	ADTException = "exception" // kept in the exceptions (unknown member, a problem)
)

// ADTOutcome is what became of one item.
type ADTOutcome struct {
	Status string
	Reason string // of an exception
	// EventID is the stored event's ID (0 unless stored).
	EventID int64
	// Cancelled is the event an A11/A12/A13 cancelled (0 when none matched);
	// Merged the number of events an A40 moved to the surviving CIN;
	// Updated the number of events of the visit an A08 updated.
	Cancelled, Merged, Updated int64
}

// ADTEventRecord is a stored event.
// An event stored before the sending system was kept reads back with an
// empty SendingApplication and SendingFacility.
type ADTEventRecord struct {
	ID int64
	domain.ADTEvent
	Source      string
	Position    int
	ReceivedAt  time.Time
	Cancelled   bool
	CancelledBy string // the MSH-10 of the cancel
	Noticed     bool   // the notice job has handled it
	// CancelledNotified, of a cancel (A11, A12, A13) read by
	// PendingADTNotices, are the providers (NPIs, sorted and distinct)
	// whose notices of the event it cancelled the store keeps
	// (adt_notices): none when it cancelled no event, or the event was
	// never notified. Other reads leave it nil.
	CancelledNotified []string
}

// ADTExceptionRecord is a message kept as an exception.
type ADTExceptionRecord struct {
	ID         int64
	Sender     string
	ControlID  string
	Source     string
	Position   int
	Line       int
	Reason     string
	ReceivedAt time.Time
	Raw        []byte
}

// ADTNotice records a notice written to an ECM provider for an event.
type ADTNotice struct {
	EventID     int64
	ProviderNPI string
	ReceivedAt  time.Time // when the event's message was received
	WrittenAt   time.Time // when the notice was written
	File        string    // the notice file
	// Late: written, or delivered, 24 hours or more after ReceivedAt.
	Late bool
	// DeliveredAt is when the notice file reached the provider's
	// destination (zero until the daemon records it; a notice written by
	// `calgw notices` keeps it zero).
	DeliveredAt time.Time
	// RunID is the daemon run that recorded the notice
	// (RecordADTNoticesRun); 0 for a notice of `calgw notices`, -1 for
	// one a daemon run recorded before runs were kept.
	RunID int64
}

// ErrADTNoticed means an event given to RecordADTNotices was handled by
// another notice run first: nothing of the call was recorded.
var ErrADTNoticed = errors.New("store: ADT event already handled by another notice run")

// Unknown-member reasons.
const (
	ADTNoCIN         = "unknown member: no PID-3 identifier of the sender profile's type and authority"
	ADTUnknownMember = "unknown member: the CIN is not in the enrollment data"
)

// ADTStore keeps ADT events (store.SQLite, store.Postgres).
type ADTStore interface {
	// RecordADT records items in order, in one transaction: a message is
	// recorded once per sending system and MSH-10 (domain.SenderKey; a
	// profile's MSH-10 recorded before the sending system was kept, in
	// adt_legacy_messages, is a duplicate too); an event whose member is
	// not in the enrollment data, or a problem, goes to the exceptions;
	// A11, A12 and A13 cancel the latest active event they name (same
	// member, same sending system, the kinds adtCancels lists, the same
	// visit number when both have one); A40 moves the prior CIN's events
	// to the surviving CIN and maps the prior CIN to it from then on,
	// recording the merge's sending system; A08 updates the active visit
	// events (admit to to-outpatient) of the same sending system, member
	// and visit number with the values it carries. An event stored before
	// the sending system was kept is of every sending system of its
	// profile.
	RecordADT(ctx context.Context, items []ADTItem) ([]ADTOutcome, error)
	// ADTEvents returns a member's events in event-time order.
	ADTEvents(ctx context.Context, cin string) ([]ADTEventRecord, error)
	// ADTEventsBetween calls fn with every active (not cancelled) event
	// whose event time is in [from, to), in event-time order.
	ADTEventsBetween(ctx context.Context, from, to time.Time, fn func(*ADTEventRecord) error) error
	// ADTExceptions returns the exceptions recorded at or after since.
	ADTExceptions(ctx context.Context, since time.Time) ([]ADTExceptionRecord, error)
	// PendingADTNotices returns up to limit events the notice job has not
	// handled, oldest first, each cancel with the providers notified of
	// the event it cancelled (ADTEventRecord.CancelledNotified).
	PendingADTNotices(ctx context.Context, limit int) ([]ADTEventRecord, error)
	// RecordADTNotices records the notices written and marks the events
	// handled, in one transaction. It fails with ErrADTNoticed, recording
	// nothing, when one of the events was handled already.
	RecordADTNotices(ctx context.Context, handled []int64, notices []ADTNotice) error
	// RecordADTNoticesRun does what RecordADTNotices does inside an open
	// run of this store (a daemon job's run, whose commit also commits its
	// ledger entry).
	RecordADTNoticesRun(ctx context.Context, run Run, handled []int64, notices []ADTNotice) error
	// ADTNotices returns the notices written at or after since.
	ADTNotices(ctx context.Context, since time.Time) ([]ADTNotice, error)
	// ADTNoticesDelivered records that the notice files were delivered at
	// at: each of their notices not yet marked delivered gets DeliveredAt,
	// and becomes late when at is within or more after its ReceivedAt. It
	// returns the notices it marked, as they are now. Marking again
	// changes nothing.
	ADTNoticesDelivered(ctx context.Context, files []string, at time.Time, within time.Duration) ([]ADTNotice, error)
	// ADTNoticeRunFiles returns the files, sorted and distinct, of the
	// notices a run recorded (RecordADTNoticesRun).
	ADTNoticeRunFiles(ctx context.Context, run int64) ([]string, error)
	// UndoADTNoticesRun undoes what a committed run recorded, in one
	// transaction: its notices not delivered are deleted and their events
	// wait for a notice again. It returns the notices deleted.
	UndoADTNoticesRun(ctx context.Context, run int64) (int64, error)
	// CountADTNotices counts the notices written at or after since, and
	// the late ones among them as of at: late when written or delivered
	// (ADTNotice.Late), or recorded by a daemon run (RunID not 0), not
	// delivered yet and received within or more before at. A notice of
	// `calgw notices` is never delivered by the gateway and is late only
	// as written.
	CountADTNotices(ctx context.Context, since, at time.Time, within time.Duration) (total, late int64, err error)
}

var (
	_ ADTStore = (*SQLite)(nil)
	_ ADTStore = (*Postgres)(nil)
)

// The adt component (sqliteComponents, postgresComponents). Times are Unix
// milliseconds, 0 when absent.
var sqliteADTMigrations = append([]string{
	`CREATE TABLE adt_messages (
		sender      TEXT NOT NULL,
		control_id  TEXT NOT NULL,
		received_at INTEGER NOT NULL,
		PRIMARY KEY (sender, control_id)
	) WITHOUT ROWID`,
	`CREATE TABLE adt_events (` + adtEventColumns("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER") + `)`,
	`CREATE INDEX adt_events_cin ON adt_events(cin, event_time)`,
	`CREATE INDEX adt_events_time ON adt_events(event_time)`,
	`CREATE INDEX adt_events_pending ON adt_events(id) WHERE noticed = 0`,
	`CREATE TABLE adt_exceptions (` + adtExceptionColumns("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "BLOB") + `)`,
	`CREATE TABLE adt_merges (prior_cin TEXT PRIMARY KEY, cin TEXT NOT NULL, control_id TEXT NOT NULL, merged_at INTEGER NOT NULL)`,
	`CREATE TABLE adt_notices (` + adtNoticeColumns("INTEGER") + `)`,
	`CREATE INDEX adt_notices_written ON adt_notices(written_at)`,
	`ALTER TABLE adt_notices ADD COLUMN delivered_at INTEGER NOT NULL DEFAULT 0`,
	`CREATE INDEX adt_notices_file ON adt_notices(file)`,
	`CREATE INDEX adt_notices_late ON adt_notices(written_at) WHERE late = 1`,
	// An A08 finds the visit's events by member and visit number.
	`CREATE INDEX adt_events_visit ON adt_events(cin, visit) WHERE visit <> ''`,
	// One index serves the member's events (cancels, merges, ADTEvents)
	// and a visit's (A08): each event costs one insert at a random place
	// in it rather than two.
	`CREATE INDEX adt_events_member ON adt_events(cin, visit, event_time)`,
	`DROP INDEX adt_events_visit`,
	`DROP INDEX adt_events_cin`,
	// PV1-4, the admission type ("" when not sent).
	`ALTER TABLE adt_events ADD COLUMN admission_type TEXT NOT NULL DEFAULT ''`,
	// A member's events (cancels, merges, ADTEvents) and a visit's (A08)
	// are found by member and visit number alone: every query of them
	// filters or sorts the rows found on other columns anyway, and an
	// index without the event time has fewer pages for each event to
	// change.
	`CREATE INDEX adt_events_cin_visit ON adt_events(cin, visit)`,
	`DROP INDEX adt_events_member`,
	// A message is stored once per sending system (profile, MSH-3.1,
	// MSH-4.1) and MSH-10: message_key is domain.SenderKey. The keys
	// stored before, per profile and MSH-10 alone, stay in
	// adt_legacy_messages, where RecordADT still finds a resent message.
	`ALTER TABLE adt_messages RENAME TO adt_legacy_messages`,
	`CREATE TABLE adt_messages (
		message_key TEXT NOT NULL PRIMARY KEY,
		received_at INTEGER NOT NULL
	) WITHOUT ROWID`,
}, append(append(adtSystemsMigrations("INTEGER", "INTEGER PRIMARY KEY"), adtNoticeRunMigrations("INTEGER")...),
	adtUnknownKeysTable+` WITHOUT ROWID`)...)

// adtSystemsMigrations keep the time of the last key stored before sending
// systems and add the sending systems, with the engine's integer and key
// types.
func adtSystemsMigrations(integer, key string) []string {
	return []string{
		// When the last of them was received (0: none): a message written
		// later than that (MSH-7) is not a resend of one of them
		// (adtLegacySlack).
		`CREATE TABLE adt_legacy_until (received_at ` + integer + ` NOT NULL)`,
		`INSERT INTO adt_legacy_until(received_at) SELECT COALESCE(MAX(received_at), 0) FROM adt_legacy_messages`,
		// The sending systems (profile, MSH-3.1 and MSH-4.1 read by
		// domain.SendingID); an event names its own by system_id (one
		// integer a row), NULL in the events stored before it was kept.
		// A merge keeps its own; NULL in the merges stored before.
		`CREATE TABLE adt_systems (
		system_id           ` + key + `,
		profile             TEXT NOT NULL,
		sending_application TEXT NOT NULL,
		sending_facility    TEXT NOT NULL,
		UNIQUE (profile, sending_application, sending_facility)
	)`,
		`ALTER TABLE adt_events ADD COLUMN system_id ` + integer,
		`ALTER TABLE adt_merges ADD COLUMN sender TEXT`,
		`ALTER TABLE adt_merges ADD COLUMN sending_application TEXT`,
		`ALTER TABLE adt_merges ADD COLUMN sending_facility TEXT`,
	}
}

// adtNoticeRunMigrations keep the daemon run that recorded each notice
// (0: written by calgw notices; -1: by a daemon run recorded before runs
// were kept), with the engine's integer type.
func adtNoticeRunMigrations(integer string) []string {
	return []string{
		`ALTER TABLE adt_notices ADD COLUMN run_id ` + integer + ` NOT NULL DEFAULT 0`,
		`CREATE INDEX adt_notices_run ON adt_notices(run_id)`,
		// The notices the daemon recorded before runs were kept (those
		// delivered, and those in its files, named
		// adt-notices-NPI-TIME-<ledger id>.csv where calgw notices named
		// adt-notices-NPI-TIME.csv) get run -1: a daemon run not known.
		`UPDATE adt_notices SET run_id = -1 WHERE run_id = 0 AND (delivered_at <> 0 OR file LIKE 'adt-notices-%-%-%.csv')`,
	}
}

var postgresADTMigrations = append([]string{
	`CREATE TABLE adt_messages (
		sender      TEXT NOT NULL,
		control_id  TEXT NOT NULL,
		received_at BIGINT NOT NULL,
		PRIMARY KEY (sender, control_id)
	)`,
	`CREATE TABLE adt_events (` + adtEventColumns("BIGSERIAL PRIMARY KEY", "BIGINT") + `)`,
	`CREATE INDEX adt_events_cin ON adt_events(cin, event_time)`,
	`CREATE INDEX adt_events_time ON adt_events(event_time)`,
	`CREATE INDEX adt_events_pending ON adt_events(id) WHERE noticed = 0`,
	`CREATE TABLE adt_exceptions (` + adtExceptionColumns("BIGSERIAL PRIMARY KEY", "BIGINT", "BYTEA") + `)`,
	`CREATE TABLE adt_merges (prior_cin TEXT PRIMARY KEY, cin TEXT NOT NULL, control_id TEXT NOT NULL, merged_at BIGINT NOT NULL)`,
	`CREATE TABLE adt_notices (` + adtNoticeColumns("BIGINT") + `)`,
	`CREATE INDEX adt_notices_written ON adt_notices(written_at)`,
	`ALTER TABLE adt_notices ADD COLUMN delivered_at BIGINT NOT NULL DEFAULT 0`,
	`CREATE INDEX adt_notices_file ON adt_notices(file)`,
	`CREATE INDEX adt_notices_late ON adt_notices(written_at) WHERE late = 1`,
	// An A08 finds the visit's events by member and visit number.
	`CREATE INDEX adt_events_visit ON adt_events(cin, visit) WHERE visit <> ''`,
	// One index serves the member's events (cancels, merges, ADTEvents)
	// and a visit's (A08): each event costs one insert at a random place
	// in it rather than two.
	`CREATE INDEX adt_events_member ON adt_events(cin, visit, event_time)`,
	`DROP INDEX adt_events_visit`,
	`DROP INDEX adt_events_cin`,
	// PV1-4, the admission type ("" when not sent).
	`ALTER TABLE adt_events ADD COLUMN admission_type TEXT NOT NULL DEFAULT ''`,
	// A member's events (cancels, merges, ADTEvents) and a visit's (A08)
	// are found by member and visit number alone: every query of them
	// filters or sorts the rows found on other columns anyway, and an
	// index without the event time has fewer pages for each event to
	// change.
	`CREATE INDEX adt_events_cin_visit ON adt_events(cin, visit)`,
	`DROP INDEX adt_events_member`,
	// A message is stored once per sending system (profile, MSH-3.1,
	// MSH-4.1) and MSH-10: message_key is domain.SenderKey. The keys
	// stored before, per profile and MSH-10 alone, stay in
	// adt_legacy_messages, where RecordADT still finds a resent message.
	`ALTER TABLE adt_messages RENAME TO adt_legacy_messages`,
	`ALTER INDEX adt_messages_pkey RENAME TO adt_legacy_messages_pkey`,
	`CREATE TABLE adt_messages (
		message_key TEXT NOT NULL PRIMARY KEY,
		received_at BIGINT NOT NULL
	)`,
}, append(append(adtSystemsMigrations("BIGINT", "BIGSERIAL PRIMARY KEY"), adtNoticeRunMigrations("BIGINT")...),
	adtUnknownKeysTable)...)

// adtUnknownKeysTable holds the adt_messages keys of the exceptions kept
// because their member was not in the enrollment data, until the message
// is sent again with its member known and stored.
const adtUnknownKeysTable = `CREATE TABLE adt_unknown_keys (message_key TEXT NOT NULL PRIMARY KEY)`

func adtEventColumns(id, integer string) string {
	return `id ` + id + `,
		sender        TEXT NOT NULL,
		control_id    TEXT NOT NULL,
		trigger_event TEXT NOT NULL,
		kind          TEXT NOT NULL,
		cin           TEXT NOT NULL,
		event_time    ` + integer + ` NOT NULL,
		message_time  ` + integer + ` NOT NULL,
		facility      TEXT NOT NULL,
		class         TEXT NOT NULL,
		visit         TEXT NOT NULL,
		admit         ` + integer + ` NOT NULL,
		discharge     ` + integer + ` NOT NULL,
		disposition   TEXT NOT NULL,
		diagnoses     TEXT NOT NULL,
		prior_cin     TEXT NOT NULL,
		source        TEXT NOT NULL,
		position      ` + integer + ` NOT NULL,
		received_at   ` + integer + ` NOT NULL,
		cancelled_by  TEXT NOT NULL DEFAULT '',
		noticed       ` + integer + ` NOT NULL DEFAULT 0`
}

func adtExceptionColumns(id, integer, blob string) string {
	return `id ` + id + `,
		sender      TEXT NOT NULL,
		control_id  TEXT NOT NULL,
		source      TEXT NOT NULL,
		position    ` + integer + ` NOT NULL,
		line        ` + integer + ` NOT NULL,
		reason      TEXT NOT NULL,
		received_at ` + integer + ` NOT NULL,
		message     ` + blob + ` NOT NULL`
}

func adtNoticeColumns(integer string) string {
	return `event_id     ` + integer + ` NOT NULL,
		provider_npi TEXT NOT NULL,
		received_at  ` + integer + ` NOT NULL,
		written_at   ` + integer + ` NOT NULL,
		file         TEXT NOT NULL,
		late         ` + integer + ` NOT NULL,
		PRIMARY KEY (event_id, provider_npi)`
}

// adtCancels lists the kinds each cancel cancels: A11 an admit or a
// registration, A12 a transfer, A13 a discharge.
var adtCancels = map[domain.ADTKind][]domain.ADTKind{
	domain.ADTCancelAdmit:     {domain.ADTAdmit, domain.ADTRegister},
	domain.ADTCancelTransfer:  {domain.ADTTransfer},
	domain.ADTCancelDischarge: {domain.ADTDischarge},
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Diagnoses are kept as code, system, type and text separated by 0x1f,
// one diagnosis after another separated by 0x1e.
func encodeDiagnoses(ds []domain.Diagnosis) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(0x1e)
		}
		b.WriteString(d.Code + "\x1f" + d.System + "\x1f" + d.Type + "\x1f" + d.Text)
	}
	return b.String()
}

func decodeDiagnoses(s string) []domain.Diagnosis {
	if s == "" {
		return nil
	}
	var out []domain.Diagnosis
	for _, d := range strings.Split(s, "\x1e") {
		p := strings.SplitN(d, "\x1f", 4)
		for len(p) < 4 {
			p = append(p, "")
		}
		out = append(out, domain.Diagnosis{Code: p[0], System: p[1], Type: p[2], Text: p[3]})
	}
	return out
}

const adtEventSelect = `SELECT id, sender, COALESCE(sending_application, ''), COALESCE(sending_facility, ''), control_id, trigger_event, kind, cin,
	event_time, message_time, facility, class, admission_type, visit,
	admit, discharge, disposition, diagnoses, prior_cin, source, position, received_at, cancelled_by, noticed FROM adt_events LEFT JOIN adt_systems USING (system_id)`

func scanADTEvent(scan func(dest ...any) error) (ADTEventRecord, error) {
	var r ADTEventRecord
	var kind, diags string
	var evt, msg, adm, dis, recv, pos, noticed int64
	err := scan(&r.ID, &r.Sender, &r.SendingApplication, &r.SendingFacility, &r.ControlID, &r.Trigger, &kind, &r.CIN, &evt, &msg, &r.Facility, &r.PatientClass, &r.AdmissionType, &r.VisitNumber,
		&adm, &dis, &r.Disposition, &diags, &r.PriorCIN, &r.Source, &pos, &recv, &r.CancelledBy, &noticed)
	if err != nil {
		return r, err
	}
	r.Kind, r.Diagnoses = domain.ADTKind(kind), decodeDiagnoses(diags)
	r.EventTime, r.MessageTime, r.AdmitTime, r.DischargeTime, r.ReceivedAt = fromMillis(evt), fromMillis(msg), fromMillis(adm), fromMillis(dis), fromMillis(recv)
	r.Position, r.Cancelled, r.Noticed = int(pos), r.CancelledBy != "", noticed != 0
	return r, nil
}

func adtEvents(ctx context.Context, db adtDB, q string, args []any) ([]ADTEventRecord, error) {
	var out []ADTEventRecord
	err := db.rows(ctx, adtEventSelect+q, args, func(scan func(...any) error) error {
		r, err := scanADTEvent(scan)
		out = append(out, r)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: ADT events: %w", err)
	}
	return out, nil
}

func adtEventsBetween(ctx context.Context, db adtDB, from, to time.Time, fn func(*ADTEventRecord) error) error {
	err := db.rows(ctx, adtEventSelect+` WHERE event_time >= ? AND event_time < ? AND cancelled_by = '' ORDER BY event_time, id`,
		[]any{millis(from), millis(to)}, func(scan func(...any) error) error {
			r, err := scanADTEvent(scan)
			if err != nil {
				return err
			}
			return fn(&r)
		})
	if err != nil {
		return fmt.Errorf("store: ADT events: %w", err)
	}
	return nil
}

func adtExceptions(ctx context.Context, db adtDB, since time.Time) ([]ADTExceptionRecord, error) {
	var out []ADTExceptionRecord
	err := db.rows(ctx, `SELECT id, sender, control_id, source, position, line, reason, received_at, message FROM adt_exceptions WHERE received_at >= ? ORDER BY id`,
		[]any{millis(since)}, func(scan func(...any) error) error {
			var r ADTExceptionRecord
			var pos, line, recv int64
			if err := scan(&r.ID, &r.Sender, &r.ControlID, &r.Source, &pos, &line, &r.Reason, &recv, &r.Raw); err != nil {
				return err
			}
			r.Position, r.Line, r.ReceivedAt = int(pos), int(line), fromMillis(recv)
			out = append(out, r)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: ADT exceptions: %w", err)
	}
	return out, nil
}

// pendingADTNotices reads up to limit events not handled by the notice
// job, oldest first, and gives each cancel among them the providers
// notified of the event it cancelled (adtCancelledNotified).
func pendingADTNotices(ctx context.Context, db adtDB, limit int) ([]ADTEventRecord, error) {
	out, err := adtEvents(ctx, db, ` WHERE noticed = 0 ORDER BY id LIMIT `+strconv.Itoa(limit), nil)
	if err != nil || len(out) == 0 {
		return out, err
	}
	cancels := map[int64]*ADTEventRecord{}
	for i := range out {
		if len(adtCancels[out[i].Kind]) > 0 {
			cancels[out[i].ID] = &out[i]
		}
	}
	if len(cancels) == 0 {
		return out, nil
	}
	// This read may see cancels stored after the first (PostgreSQL gives
	// each statement its own snapshot): those not among out are left out.
	err = db.rows(ctx, adtCancelledNotified, []any{out[0].ID, out[len(out)-1].ID}, func(scan func(...any) error) error {
		var id int64
		var npi string
		if err := scan(&id, &npi); err != nil {
			return err
		}
		if c := cancels[id]; c != nil && !slices.Contains(c.CancelledNotified, npi) {
			c.CancelledNotified = append(c.CancelledNotified, npi)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: ADT notices of cancelled events: %w", err)
	}
	return out, nil
}

// adtCancelledNotified reads, for the cancels waiting for a notice whose
// IDs are between its two arguments, the providers of the notices kept of
// the event each cancelled, by cancel and NPI. The event a cancel
// cancelled is the one RecordADT marked with the cancel's MSH-10
// (cancelled_by), of a kind the cancel cancels (adtCancels), of the
// cancel's member and profile, and of its sending system unless one of the
// two was stored before sending systems were kept.
var adtCancelledNotified = func() string {
	var cancels, kinds []string
	for _, c := range slices.Sorted(maps.Keys(adtCancels)) {
		var in []string
		for _, k := range adtCancels[c] {
			in = append(in, "'"+string(k)+"'")
		}
		cancels = append(cancels, "'"+string(c)+"'")
		kinds = append(kinds, "(c.kind = '"+string(c)+"' AND e.kind IN ("+strings.Join(in, ", ")+"))")
	}
	return `SELECT c.id, n.provider_npi FROM adt_events c
		JOIN adt_events e ON e.cin = c.cin AND e.cancelled_by = c.control_id AND e.sender = c.sender
			AND (e.system_id IS NULL OR c.system_id IS NULL OR e.system_id = c.system_id)
			AND (` + strings.Join(kinds, " OR ") + `)
		JOIN adt_notices n ON n.event_id = e.id
		WHERE c.noticed = 0 AND c.id >= ? AND c.id <= ? AND c.kind IN (` + strings.Join(cancels, ", ") + `)
		ORDER BY c.id, n.provider_npi`
}()

// recordADTNotices records notices of run (0: not a daemon run) and marks
// the events handled.
func recordADTNotices(ctx context.Context, db adtDB, run int64, handled []int64, notices []ADTNotice) error {
	for _, n := range notices {
		late := 0
		if n.Late {
			late = 1
		}
		if _, err := db.exec(ctx, `INSERT INTO adt_notices(event_id, provider_npi, received_at, written_at, file, late, run_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			n.EventID, n.ProviderNPI, millis(n.ReceivedAt), millis(n.WrittenAt), n.File, late, run); err != nil {
			return fmt.Errorf("store: ADT notice of event %d: %w", n.EventID, err)
		}
	}
	for _, id := range handled {
		n, err := db.exec(ctx, `UPDATE adt_events SET noticed = 1 WHERE id = ? AND noticed = 0`, id)
		if err != nil {
			return fmt.Errorf("store: ADT event %d handled: %w", id, err)
		}
		if n != 1 {
			return fmt.Errorf("%w (event %d)", ErrADTNoticed, id)
		}
	}
	return nil
}

func adtNoticesDelivered(ctx context.Context, db adtDB, files []string, at time.Time, within time.Duration) ([]ADTNotice, error) {
	var out []ADTNotice
	cut := millis(at) - within.Milliseconds() // received at or before cut: late
	for _, f := range files {
		var marked []ADTNotice
		err := db.rows(ctx, `SELECT event_id, provider_npi, received_at, written_at, late FROM adt_notices WHERE file = ? AND delivered_at = 0 ORDER BY event_id, provider_npi`,
			[]any{f}, func(scan func(...any) error) error {
				n := ADTNotice{File: f, DeliveredAt: at}
				var recv, written, late int64
				if err := scan(&n.EventID, &n.ProviderNPI, &recv, &written, &late); err != nil {
					return err
				}
				n.ReceivedAt, n.WrittenAt, n.Late = fromMillis(recv), fromMillis(written), late != 0 || recv <= cut
				marked = append(marked, n)
				return nil
			})
		if err != nil {
			return nil, fmt.Errorf("store: ADT notices delivered: %w", err)
		}
		if len(marked) == 0 {
			continue
		}
		if _, err := db.exec(ctx, `UPDATE adt_notices SET delivered_at = ?, late = CASE WHEN late = 1 OR received_at <= ? THEN 1 ELSE 0 END
			WHERE file = ? AND delivered_at = 0`, millis(at), cut, f); err != nil {
			return nil, fmt.Errorf("store: ADT notices delivered: %w", err)
		}
		out = append(out, marked...)
	}
	return out, nil
}

func adtNoticeRunFiles(ctx context.Context, db adtDB, run int64) ([]string, error) {
	var out []string
	err := db.rows(ctx, `SELECT DISTINCT file FROM adt_notices WHERE run_id = ? ORDER BY file`, []any{run},
		func(scan func(...any) error) error {
			var f string
			if err := scan(&f); err != nil {
				return err
			}
			out = append(out, f)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: ADT notice files of run %d: %w", run, err)
	}
	return out, nil
}

func undoADTNoticesRun(ctx context.Context, db adtDB, run int64) (int64, error) {
	if _, err := db.exec(ctx, `UPDATE adt_events SET noticed = 0 WHERE noticed = 1 AND id IN
		(SELECT event_id FROM adt_notices WHERE run_id = ? AND delivered_at = 0)`, run); err != nil {
		return 0, fmt.Errorf("store: undo ADT notices of run %d: %w", run, err)
	}
	n, err := db.exec(ctx, `DELETE FROM adt_notices WHERE run_id = ? AND delivered_at = 0`, run)
	if err != nil {
		return 0, fmt.Errorf("store: undo ADT notices of run %d: %w", run, err)
	}
	return n, nil
}

func countADTNotices(ctx context.Context, db adtDB, since, at time.Time, within time.Duration) (total, late int64, err error) {
	cut := millis(at) - within.Milliseconds() // received at or before cut and not delivered: late
	if _, err := db.row(ctx, `SELECT COUNT(*), COUNT(CASE WHEN late = 1 OR (run_id <> 0 AND delivered_at = 0 AND received_at <= ?) THEN 1 END)
		FROM adt_notices WHERE written_at >= ?`, []any{cut, millis(since)}, &total, &late); err != nil {
		return 0, 0, fmt.Errorf("store: ADT notices count: %w", err)
	}
	return total, late, nil
}

func adtNotices(ctx context.Context, db adtDB, since time.Time) ([]ADTNotice, error) {
	var out []ADTNotice
	err := db.rows(ctx, `SELECT event_id, provider_npi, received_at, written_at, file, late, delivered_at, run_id FROM adt_notices WHERE written_at >= ? ORDER BY written_at, event_id, provider_npi`,
		[]any{millis(since)}, func(scan func(...any) error) error {
			var n ADTNotice
			var recv, written, late, delivered int64
			if err := scan(&n.EventID, &n.ProviderNPI, &recv, &written, &n.File, &late, &delivered, &n.RunID); err != nil {
				return err
			}
			n.ReceivedAt, n.WrittenAt, n.Late, n.DeliveredAt = fromMillis(recv), fromMillis(written), late != 0, fromMillis(delivered)
			out = append(out, n)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("store: ADT notices: %w", err)
	}
	return out, nil
}

// SQLite.

type sqliteADT struct {
	tx    sqliteTxConn // a *sql.Tx, or a run's *sql.Conn inside its transaction
	stmts map[string]*sql.Stmt
}

// sqliteTxConn is what *sql.Tx and *sql.Conn share.
type sqliteTxConn interface {
	PrepareContext(ctx context.Context, q string) (*sql.Stmt, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func (d *sqliteADT) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if s, ok := d.stmts[q]; ok {
		return s, nil
	}
	s, err := d.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	d.stmts[q] = s
	return s, nil
}

// execLater runs the statement now: SQLite's statements cost no round
// trip.
func (d *sqliteADT) execLater(ctx context.Context, q string, args []any, done func(int64)) error {
	n, err := d.exec(ctx, q, args...)
	if err == nil {
		done(n)
	}
	return err
}

func (d *sqliteADT) flush(context.Context) error { return nil }

func (d *sqliteADT) exec(ctx context.Context, q string, args ...any) (int64, error) {
	s, err := d.stmt(ctx, q)
	if err != nil {
		return 0, err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d *sqliteADT) row(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	s, err := d.stmt(ctx, q)
	if err != nil {
		return false, err
	}
	err = s.QueryRowContext(ctx, args...).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (d *sqliteADT) rows(ctx context.Context, q string, args []any, each func(func(...any) error) error) error {
	s, err := d.stmt(ctx, q)
	if err != nil {
		return err
	}
	rows, err := s.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (d *sqliteADT) insertIDs(ctx context.Context, q string, args []any, ids []int64) error {
	s, err := d.stmt(ctx, q)
	if err != nil {
		return err
	}
	res, err := s.ExecContext(ctx, args...)
	if err != nil {
		return err
	}
	// The rows of one INSERT get consecutive rowids (AUTOINCREMENT, one
	// writer), the last one's reported.
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	for i := range ids {
		ids[i] = last - int64(len(ids)-1-i)
	}
	return nil
}

func (d *sqliteADT) rawKeys() bool { return true }

func (d *sqliteADT) member(ctx context.Context, cin string) (bool, error) {
	_, ok, err := readMember(ctx, d.tx, cin, nil)
	return ok, err
}

func (s *SQLite) adt(ctx context.Context, write bool, fn func(db adtDB) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
	if err != nil {
		return fmt.Errorf("store: ADT: %w", err)
	}
	defer tx.Rollback()
	d := &sqliteADT{tx: tx, stmts: map[string]*sql.Stmt{}}
	defer func() {
		for _, st := range d.stmts {
			st.Close()
		}
	}()
	if err := fn(d); err != nil {
		return err
	}
	return tx.Commit()
}

// adtPageCacheKiB is the page cache of a connection recording ADT
// messages: it holds the interior pages of the events' indexes; the leaves
// come from the OS's cache, so memory stays the same however many events
// the store holds.
const adtPageCacheKiB = 8192

// smallCacheConn returns a connection of the pool whose page cache is
// adtPageCacheKiB until release, which gives the pool's setting back and
// returns the connection: for a writer that inserts in key order, or whose
// index leaves the OS's cache holds, so that memory does not grow with the
// store.
func (s *SQLite) smallCacheConn(ctx context.Context) (conn *sql.Conn, release func(), err error) {
	if conn, err = s.db.Conn(ctx); err != nil {
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, -adtPageCacheKiB)); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, func() {
		conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = %d`, -pageCacheKiB))
		conn.Close()
	}, nil
}

// adtCheckpointPages is the WAL size, in pages, at which a commit of
// RecordADT checkpoints (SQLite's default is 1000): each batch changes
// pages all over the member index, and one checkpoint of several batches
// copies a page changed by each of them once rather than once a batch.
// The WAL file grows to about this many pages (64 MB) and is reused.
const adtCheckpointPages = 16384

// RecordADT implements ADTStore. Its connection keeps a small page cache
// (adtPageCacheKiB), its statement journals in memory (a multi-row INSERT
// journals the pages it changes, to undo itself alone on an error) and
// checkpoints at adtCheckpointPages while it records, and gets the pool's
// settings back after. It writes in the single writer's turn, as InboxAdd
// does.
func (s *SQLite) RecordADT(ctx context.Context, items []ADTItem) (out []ADTOutcome, err error) {
	if err := s.takeTurn(ctx); err != nil {
		return nil, fmt.Errorf("store: ADT: %w", err)
	}
	defer s.endTurn()
	conn, release, err := s.smallCacheConn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: ADT: %w", err)
	}
	defer release()
	if _, err := conn.ExecContext(ctx, `PRAGMA temp_store = MEMORY`); err != nil {
		return nil, fmt.Errorf("store: ADT: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA temp_store = DEFAULT`)
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, adtCheckpointPages)); err != nil {
		return nil, fmt.Errorf("store: ADT: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA wal_autocheckpoint = 1000`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: ADT: %w", err)
	}
	defer tx.Rollback()
	d := &sqliteADT{tx: tx, stmts: map[string]*sql.Stmt{}}
	defer func() {
		for _, st := range d.stmts {
			st.Close()
		}
	}()
	if out, err = recordADT(ctx, d, &s.adtMembers, items); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: ADT: %w", err)
	}
	return out, nil
}

// ADTEvents implements ADTStore.
func (s *SQLite) ADTEvents(ctx context.Context, cin string) (out []ADTEventRecord, err error) {
	err = s.adt(ctx, false, func(db adtDB) error {
		out, err = adtEvents(ctx, db, ` WHERE cin = ? ORDER BY event_time, id`, []any{cin})
		return err
	})
	return out, err
}

// ADTEventsBetween implements ADTStore.
func (s *SQLite) ADTEventsBetween(ctx context.Context, from, to time.Time, fn func(*ADTEventRecord) error) error {
	return s.adt(ctx, false, func(db adtDB) error { return adtEventsBetween(ctx, db, from, to, fn) })
}

// ADTExceptions implements ADTStore.
func (s *SQLite) ADTExceptions(ctx context.Context, since time.Time) (out []ADTExceptionRecord, err error) {
	err = s.adt(ctx, false, func(db adtDB) error {
		out, err = adtExceptions(ctx, db, since)
		return err
	})
	return out, err
}

// PendingADTNotices implements ADTStore.
func (s *SQLite) PendingADTNotices(ctx context.Context, limit int) (out []ADTEventRecord, err error) {
	err = s.adt(ctx, false, func(db adtDB) error {
		out, err = pendingADTNotices(ctx, db, limit)
		return err
	})
	return out, err
}

// RecordADTNotices implements ADTStore.
func (s *SQLite) RecordADTNotices(ctx context.Context, handled []int64, notices []ADTNotice) error {
	return s.adt(ctx, true, func(db adtDB) error { return recordADTNotices(ctx, db, 0, handled, notices) })
}

// RecordADTNoticesRun implements ADTStore.
func (s *SQLite) RecordADTNoticesRun(ctx context.Context, run Run, handled []int64, notices []ADTNotice) error {
	r, ok := run.(*sqliteRun)
	if !ok || r.done {
		return fmt.Errorf("%w: not an open SQLite run", ErrNoRun)
	}
	d := &sqliteADT{tx: r.conn, stmts: map[string]*sql.Stmt{}}
	defer func() {
		for _, st := range d.stmts {
			st.Close()
		}
	}()
	return recordADTNotices(ctx, d, r.id, handled, notices)
}

// ADTNoticesDelivered implements ADTStore.
func (s *SQLite) ADTNoticesDelivered(ctx context.Context, files []string, at time.Time, within time.Duration) (out []ADTNotice, err error) {
	err = s.adt(ctx, true, func(db adtDB) error {
		out, err = adtNoticesDelivered(ctx, db, files, at, within)
		return err
	})
	return out, err
}

// ADTNoticeRunFiles implements ADTStore.
func (s *SQLite) ADTNoticeRunFiles(ctx context.Context, run int64) (out []string, err error) {
	err = s.adt(ctx, false, func(db adtDB) error {
		out, err = adtNoticeRunFiles(ctx, db, run)
		return err
	})
	return out, err
}

// UndoADTNoticesRun implements ADTStore.
func (s *SQLite) UndoADTNoticesRun(ctx context.Context, run int64) (n int64, err error) {
	err = s.adt(ctx, true, func(db adtDB) error {
		n, err = undoADTNoticesRun(ctx, db, run)
		return err
	})
	return n, err
}

// CountADTNotices implements ADTStore.
func (s *SQLite) CountADTNotices(ctx context.Context, since, at time.Time, within time.Duration) (total, late int64, err error) {
	err = s.adt(ctx, false, func(db adtDB) error {
		total, late, err = countADTNotices(ctx, db, since, at, within)
		return err
	})
	return total, late, err
}

// ADTNotices implements ADTStore.
func (s *SQLite) ADTNotices(ctx context.Context, since time.Time) (out []ADTNotice, err error) {
	err = s.adt(ctx, false, func(db adtDB) error {
		out, err = adtNotices(ctx, db, since)
		return err
	})
	return out, err
}

// PostgreSQL.

type pgADT struct {
	tx pgx.Tx
	// later holds the statements execLater queued, each with its callback,
	// sent in one round trip before any other statement and by flush.
	later pgx.Batch
}

// pgLaterMax is how many statements execLater queues before it sends them.
const pgLaterMax = 512

// pgSQLs keeps pgSQL's rewrites: the ADT statements are a few texts
// (multi-row statements come in powers of two), each rewritten once.
var pgSQLs sync.Map

// pgSQL is dollars(q), each text rewritten once.
func pgSQL(q string) string {
	if r, ok := pgSQLs.Load(q); ok {
		return r.(string)
	}
	r := dollars(q)
	pgSQLs.Store(q, r)
	return r
}

// execLater queues the statement, whose rows affected go to done when it
// runs: it runs in order with the others, in one round trip with the
// statements queued after it.
func (d *pgADT) execLater(ctx context.Context, q string, args []any, done func(int64)) error {
	d.later.Queue(pgSQL(q), args...).Exec(func(tag pgconn.CommandTag) error {
		done(tag.RowsAffected())
		return nil
	})
	if d.later.Len() >= pgLaterMax {
		return d.flush(ctx)
	}
	return nil
}

// flush sends the statements execLater queued.
func (d *pgADT) flush(ctx context.Context) error {
	if d.later.Len() == 0 {
		return nil
	}
	err := d.tx.SendBatch(ctx, &d.later).Close() // runs each statement's callback
	d.later = pgx.Batch{}
	return err
}

func (d *pgADT) exec(ctx context.Context, q string, args ...any) (int64, error) {
	if err := d.flush(ctx); err != nil {
		return 0, err
	}
	tag, err := d.tx.Exec(ctx, pgSQL(q), args...)
	return tag.RowsAffected(), err
}

func (d *pgADT) row(ctx context.Context, q string, args []any, dest ...any) (bool, error) {
	if err := d.flush(ctx); err != nil {
		return false, err
	}
	err := d.tx.QueryRow(ctx, pgSQL(q), args...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

func (d *pgADT) rows(ctx context.Context, q string, args []any, each func(func(...any) error) error) error {
	if err := d.flush(ctx); err != nil {
		return err
	}
	rows, err := d.tx.Query(ctx, pgSQL(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (d *pgADT) insertIDs(ctx context.Context, q string, args []any, ids []int64) error {
	if err := d.flush(ctx); err != nil {
		return err
	}
	rows, err := d.tx.Query(ctx, pgSQL(q+` RETURNING id`), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		if i == len(ids) {
			return fmt.Errorf("INSERT returned more than %d ids", len(ids))
		}
		if err := rows.Scan(&ids[i]); err != nil {
			return err
		}
		i++
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if i != len(ids) {
		return fmt.Errorf("INSERT returned %d ids, want %d", i, len(ids))
	}
	// The sequence gives the rows ascending ids in VALUES order (the ADT
	// lock keeps other writers out); RETURNING's order is not promised.
	slices.Sort(ids)
	return nil
}

func (d *pgADT) rawKeys() bool { return false }

func (d *pgADT) member(ctx context.Context, cin string) (bool, error) {
	if err := d.flush(ctx); err != nil {
		return false, err
	}
	_, ok, err := pgMember(ctx, d.tx, cin, nil)
	return ok, err
}

// adtLockKey serializes the ADT writers of instances sharing a database:
// cancels and merges read what earlier messages wrote.
const adtLockKey = 0x61647400

func (p *Postgres) adt(ctx context.Context, write bool, fn func(db adtDB) error) error {
	opts := pgx.TxOptions{AccessMode: pgx.ReadWrite}
	if !write {
		opts.AccessMode = pgx.ReadOnly
	}
	return pgx.BeginTxFunc(ctx, p.pool, opts, func(tx pgx.Tx) error {
		if write {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(adtLockKey)); err != nil {
				return fmt.Errorf("store: ADT lock: %w", err)
			}
		}
		return fn(&pgADT{tx: tx})
	})
}

// RecordADT implements ADTStore.
func (p *Postgres) RecordADT(ctx context.Context, items []ADTItem) (out []ADTOutcome, err error) {
	err = p.adt(ctx, true, func(db adtDB) error {
		out, err = recordADT(ctx, db, &p.adtMembers, items)
		return err
	})
	return out, err
}

// ADTEvents implements ADTStore.
func (p *Postgres) ADTEvents(ctx context.Context, cin string) (out []ADTEventRecord, err error) {
	err = p.adt(ctx, false, func(db adtDB) error {
		out, err = adtEvents(ctx, db, ` WHERE cin = ? ORDER BY event_time, id`, []any{cin})
		return err
	})
	return out, err
}

// ADTEventsBetween implements ADTStore.
func (p *Postgres) ADTEventsBetween(ctx context.Context, from, to time.Time, fn func(*ADTEventRecord) error) error {
	return p.adt(ctx, false, func(db adtDB) error { return adtEventsBetween(ctx, db, from, to, fn) })
}

// ADTExceptions implements ADTStore.
func (p *Postgres) ADTExceptions(ctx context.Context, since time.Time) (out []ADTExceptionRecord, err error) {
	err = p.adt(ctx, false, func(db adtDB) error {
		out, err = adtExceptions(ctx, db, since)
		return err
	})
	return out, err
}

// PendingADTNotices implements ADTStore.
func (p *Postgres) PendingADTNotices(ctx context.Context, limit int) (out []ADTEventRecord, err error) {
	err = p.adt(ctx, false, func(db adtDB) error {
		out, err = pendingADTNotices(ctx, db, limit)
		return err
	})
	return out, err
}

// RecordADTNotices implements ADTStore.
func (p *Postgres) RecordADTNotices(ctx context.Context, handled []int64, notices []ADTNotice) error {
	return p.adt(ctx, true, func(db adtDB) error { return recordADTNotices(ctx, db, 0, handled, notices) })
}

// RecordADTNoticesRun implements ADTStore.
func (p *Postgres) RecordADTNoticesRun(ctx context.Context, run Run, handled []int64, notices []ADTNotice) error {
	r, ok := run.(*pgRun)
	if !ok {
		return fmt.Errorf("%w: not a PostgreSQL run", ErrNoRun)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		return fmt.Errorf("%w: run %d is closed", ErrNoRun, r.id)
	}
	return recordADTNotices(ctx, &pgADT{tx: r.tx}, r.id, handled, notices)
}

// ADTNoticesDelivered implements ADTStore.
func (p *Postgres) ADTNoticesDelivered(ctx context.Context, files []string, at time.Time, within time.Duration) (out []ADTNotice, err error) {
	err = p.adt(ctx, true, func(db adtDB) error {
		out, err = adtNoticesDelivered(ctx, db, files, at, within)
		return err
	})
	return out, err
}

// ADTNoticeRunFiles implements ADTStore.
func (p *Postgres) ADTNoticeRunFiles(ctx context.Context, run int64) (out []string, err error) {
	err = p.adt(ctx, false, func(db adtDB) error {
		out, err = adtNoticeRunFiles(ctx, db, run)
		return err
	})
	return out, err
}

// UndoADTNoticesRun implements ADTStore.
func (p *Postgres) UndoADTNoticesRun(ctx context.Context, run int64) (n int64, err error) {
	err = p.adt(ctx, true, func(db adtDB) error {
		n, err = undoADTNoticesRun(ctx, db, run)
		return err
	})
	return n, err
}

// CountADTNotices implements ADTStore.
func (p *Postgres) CountADTNotices(ctx context.Context, since, at time.Time, within time.Duration) (total, late int64, err error) {
	err = p.adt(ctx, false, func(db adtDB) error {
		total, late, err = countADTNotices(ctx, db, since, at, within)
		return err
	})
	return total, late, err
}

// ADTNotices implements ADTStore.
func (p *Postgres) ADTNotices(ctx context.Context, since time.Time) (out []ADTNotice, err error) {
	err = p.adt(ctx, false, func(db adtDB) error {
		out, err = adtNotices(ctx, db, since)
		return err
	})
	return out, err
}
