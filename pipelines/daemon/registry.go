package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/pipelines/encounters"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// A Processor turns one input into outputs: an invoice into an 837P,
// rejects and a summary; an 834 into enrollment spans and a report; a
// scheduled job into a 274. The built-in processors are listed by kind in
// processors; the daemon refuses at start a route or a scheduled job whose
// kind has no processor.
type Processor interface {
	// Process reads job.Input (or, for a scheduled job, the state) and
	// writes its outputs into job.OutDir. A processor that records state
	// does it in a run of job.Store: the run's commit also marks the file
	// committed in the ledger, atomically. An input that can never be
	// processed (not the kind its route says, unreadable) is reported with
	// an error wrapping ErrUnusable: the file is quarantined with that
	// message, which must not hold member data.
	Process(ctx context.Context, job *Job) (*Result, error)
}

// A Resumer is a Processor that commits a store run. After a crash between
// the run's commit and the ledger's record of the outputs, the daemon calls
// Resume instead of Process again (which would find every line already
// sent): it finishes the run and returns the outputs the run left in
// job.OutDir. It returns ErrRunUndone when the run's output is gone and the
// run was rolled back, so the file is processed again.
type Resumer interface {
	Resume(ctx context.Context, job *Job) (*Result, error)
}

// Job is one input for a processor.
type Job struct {
	File   *store.FileEntry // the ledger entry
	Input  string           // local copy of the content (decrypted); "" for a scheduled job
	Name   string           // the file's name as dropped, without a .pgp/.gpg/.asc ending
	Period string           // scheduled jobs: the month, "2026-10"
	OutDir string           // an empty folder for the outputs, kept until they are delivered
	Store  store.Store      // the state store, bound to the entry (see Processor)
	Config *config.Config
	Log    *slog.Logger
}

// Result is what a processor produced.
type Result struct {
	Outputs []Output
	Note    string // a summary for the ledger ("12 lines accepted, 3 rejected")
	// Line counts, for metrics.
	Accepted int
	Rejected int
	ByRule   map[string]int // rejections per rule ID (a line may break several)
}

// Output is one file a processor wrote.
type Output struct {
	Role string // one of the processor's roles: where it goes comes from the route
	Path string // the file in Job.OutDir
	Name string // its name at the destination
	// Destination, when set, is where this output goes instead of its
	// role's destination (an ECM provider's own for its ADT notices).
	Destination string
}

// A DeliveryRecorder is a Processor told when every output of an entry
// is delivered, before the entry is archived. A crash in between tells it
// again, so it must be idempotent; an error retries the delivery step.
type DeliveryRecorder interface {
	Delivered(ctx context.Context, e *store.FileEntry, at time.Time) error
}

// Role is a kind of output and the destination it goes to unless the
// route or job says otherwise.
type Role struct {
	Name               string
	DefaultDestination string
}

// Env is what a processor is built with.
type Env struct {
	Config *config.Config
	Store  store.Store // the state store, for look-ups outside a job
	Rules  *rules.Set  // the rule set, loaded once for the daemon
	Log    *slog.Logger
	// Judges returns the stateful rules (eligibility, authorization, ...)
	// for one conversion; nil means none.
	Judges func(ctx context.Context) ([]encounters.Judge, error)
	// Metrics is the daemon's registry, where a processor registers metrics
	// of its own (nil: none).
	Metrics prometheus.Registerer
}

// storeFor returns env.Store as what a processor of kind needs of it (a
// consumer's interface, such as contracts.RosterStore), or says that the
// configured state store cannot serve that kind.
func storeFor[T any](env Env, kind string) (T, error) {
	st, ok := env.Store.(T)
	if !ok {
		return st, fmt.Errorf("kind %q: the %T state store does not keep what it needs", kind, env.Store)
	}
	return st, nil
}

// Registration describes a processor.
type Registration struct {
	Kind      string // a config.FileKinds or config.JobKinds value
	Roles     []Role // the outputs it may write
	Scheduled bool   // it runs from schedules.jobs, without an input file
	New       func(env Env) (Processor, error)
	// NoteRole is the role whose destination (the route's, else the
	// default) gets the sender's note when a file of this kind is
	// quarantined or is a duplicate (senderNote); "" writes none.
	NoteRole string
}

// ErrUnusable marks an input that can never be processed as it is: the
// file is quarantined with the error's message beside it.
var ErrUnusable = errors.New("unusable input")

// ErrRunUndone is returned by Resume when the committed run was rolled
// back because its output was lost: the file is processed again.
var ErrRunUndone = errors.New("the committed run's output is gone and the run was rolled back")

// processors lists every built-in processor by kind: the file kinds of
// routes and the scheduled job kinds. Options.Processors adds to it or
// replaces an entry for one daemon.
var processors = map[string]Registration{
	"invoice": {
		Kind: "invoice",
		Roles: []Role{
			{RoleEncounters, config.DefaultDHCS},
			{RoleRejects, config.DefaultResponses},
			{RoleSummary, config.DefaultResponses},
		},
		New:      newInvoiceProcessor,
		NoteRole: RoleRejects,
	},
	"834": {
		Kind:     "834",
		Roles:    []Role{{RoleReport, config.DefaultResponses}, {RoleAck, config.DefaultResponses}},
		New:      newEnrollmentProcessor(store.LoadKind834, ingest.Ingest834),
		NoteRole: RoleReport,
	},
	"auth": {
		Kind:     "auth",
		Roles:    []Role{{RoleReport, config.DefaultResponses}},
		New:      newEnrollmentProcessor(store.LoadKindAuth, ingest.IngestAuth),
		NoteRole: RoleReport,
	},
	"other_programs": {
		Kind:     "other_programs",
		Roles:    []Role{{RoleReport, config.DefaultResponses}},
		New:      newEnrollmentProcessor(store.LoadKindOtherPrograms, ingest.IngestPrograms),
		NoteRole: RoleReport,
	},
	"roster": {
		Kind:     "roster",
		Roles:    []Role{{RoleReport, config.DefaultResponses}},
		New:      newRosterProcessor,
		NoteRole: RoleReport,
	},
	"adt": {
		Kind:     "adt",
		Roles:    []Role{{RoleReport, config.DefaultResponses}},
		New:      newADTProcessor,
		NoteRole: RoleReport,
	},
	"277ca": {
		Kind:     "277ca",
		Roles:    []Role{{RoleReport, config.DefaultResponses}},
		New:      newResponseProcessor(ingest.Kind277CA, ingest.Load277CA),
		NoteRole: RoleReport,
	},
	"999": {
		Kind:     "999",
		Roles:    []Role{{RoleReport, config.DefaultResponses}},
		New:      newResponseProcessor(ingest.Kind999, ingest.Load999),
		NoteRole: RoleReport,
	},
	"evr": {
		Kind:     "evr",
		Roles:    []Role{{RoleReport, config.DefaultResponses}},
		New:      newResponseProcessor(ingest.KindEVR, ingest.LoadEVR),
		NoteRole: RoleReport,
	},
	"274": {
		Kind:      "274",
		Scheduled: true,
		Roles:     []Role{{RoleProviders, config.DefaultDHCS}},
		New:       newProviderFileJob,
	},
	"monthly-report": {
		Kind:      "monthly-report",
		Scheduled: true,
		Roles:     []Role{{RoleMonitoring, config.DefaultDHCS}, {RoleReport, config.DefaultResponses}},
		New:       newMonthlyReportJob,
	},
	"adt-notices": {
		Kind:      "adt-notices",
		Scheduled: true,
		Roles:     []Role{{RoleNotices, config.DefaultResponses}, {RoleSummary, config.DefaultResponses}},
		New:       newADTNoticeJob,
	},
	"837p": inbound837Registration,
}

// Kinds lists the kinds that have a built-in processor.
func Kinds() []string { return slices.Sorted(maps.Keys(processors)) }

// unusable wraps err as ErrUnusable.
func unusable(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUnusable, fmt.Sprintf(format, a...))
}
