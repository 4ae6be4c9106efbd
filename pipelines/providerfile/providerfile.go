// Package providerfile runs the monthly provider-file job: the roster's
// sites in force during a month, from the state store, become one DHCS
// 274 (004050X109) per county served, written atomically, with interchange,
// group and transaction control numbers from the store's persistent
// sequences. `calgw provider-file` and the daemon call Run.
package providerfile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
	"github.com/calaim-gateway/calaim-gateway/internal/civil"
	mp "github.com/calaim-gateway/calaim-gateway/mappings/providerfile"
	"github.com/calaim-gateway/calaim-gateway/mappings/roster"
	"github.com/calaim-gateway/calaim-gateway/pipelines/contracts"
	"github.com/calaim-gateway/calaim-gateway/rules"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Store is what the job needs of the state store (store.SQLite,
// store.Postgres).
type Store interface {
	NextControlNumber(ctx context.Context, scope string) (int64, error)
	ProviderSiteRecords(ctx context.Context, from, to civil.Date) ([][]byte, error)
}

var (
	_ Store = (*store.SQLite)(nil)
	_ Store = (*store.Postgres)(nil)
)

// Job is one month's provider files.
type Job struct {
	Month   mp.Month
	OutDir  string
	Store   Store
	Config  *config.Config
	Mapping *rules.ProviderFileMapping
	Now     time.Time // zero = time.Now(); stamps ISA09/10, GS04/05, BHT04/05
	Log     *slog.Logger
}

// Output is one county's file.
type Output struct {
	County      string   // two-digit code (the first of an HCP code's file)
	HCP         string   // the HCP code, with an HCP code table
	Counties    []string // every county in the file
	Path        string
	Interchange int64 // ISA13 (GS06 and ST02 are in the file)
	Groups      int
	Sites       int
	Providers   int
}

// Result lists the files written, by county code.
type Result struct {
	Month mp.Month
	Files []Output
}

// ErrNoSites means no roster site is in force during the month: nothing
// is written.
var ErrNoSites = errors.New("no provider site is in force during the month")

// FileName is the name of a county's file: the reporting month, the
// county code and the interchange control number, so that a re-run never
// overwrites an earlier file.
func FileName(m mp.Month, county string, isa13 int64) string {
	return fmt.Sprintf("274-%s-%s-%09d.x12", m.Compact(), county, isa13)
}

// Run writes the month's files. Every file is written under a temporary
// name and synced; only when all are complete are they renamed into place,
// so a failure leaves no partial set. Control numbers are reserved (and
// committed) before any file is written: a failed run leaves a gap in the
// sequence, never a number used twice. Running the same month again writes
// new files with new control numbers and otherwise the same content (the
// creation date and time excepted). Each file is validated against the 274
// table before it is renamed (ErrInvalid).
func Run(ctx context.Context, job Job) (*Result, error) {
	log := job.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := job.Now
	if now.IsZero() {
		now = time.Now()
	}
	cfg := job.Config
	now = now.In(cfg.Location())
	partner, ok := cfg.Partners[cfg.Providers.TradingPartner]
	if !ok {
		return nil, fmt.Errorf("providers.trading_partner %q is not in trading_partners", cfg.Providers.TradingPartner)
	}
	recs, err := job.Store.ProviderSiteRecords(ctx, job.Month.First(), job.Month.Last())
	if err != nil {
		return nil, err
	}
	sites, err := contracts.DecodeSites(recs)
	if err != nil {
		return nil, err
	}
	plan := partner.Plan
	if len(plan.HCPs()) == 0 {
		plan = cfg.EncounterPartner().Plan // one plan block serves both profiles
	}
	var hcpOf func(string) (string, bool)
	if len(plan.HCPs()) > 0 {
		hcpOf = plan.HCPFor
		partner.Plan = plan
	}
	files, err := mp.BuildByHCP(sites, job.Month, job.Mapping, hcpOf)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoSites, job.Month)
	}
	if err := os.MkdirAll(job.OutDir, 0o750); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	authInfo := partner.Interchange.AuthInfo
	if partner.Interchange.AuthQualifier == "03" && authInfo == "" {
		authInfo = job.Month.Compact() // ISA02: the reporting period
		if cfg.Providers.PeriodFormat == "YYMM" {
			authInfo = authInfo[2:]
		}
	}
	var opts []x12.WriterOption
	if cfg.Providers.SegmentNewlines {
		opts = append(opts, x12.WithNewlines())
	}
	prefix := ".calgw-274-" + strconv.FormatInt(now.UnixNano(), 36) + "-"
	var open []*atomicfile.File
	abort := func() {
		for _, f := range open {
			f.Abort()
		}
	}
	res := &Result{Month: job.Month}
	for _, cf := range files {
		fp := partner.ForHCP(cf.HCP)
		pi := fp.Interchange
		isaScope := fmt.Sprintf("ISA/%s:%s/%s:%s", pi.SenderQualifier, pi.SenderID, pi.ReceiverQualifier, pi.ReceiverID)
		gsScope := fmt.Sprintf("GS/%s/%s", fp.Group.SenderCode, fp.Group.ReceiverCode)
		stScope := fmt.Sprintf("ST/%s/%s", fp.Group.SenderCode, fp.Group.ReceiverCode)
		isa, err := job.Store.NextControlNumber(ctx, isaScope)
		if err != nil {
			abort()
			return nil, err
		}
		gs, err := job.Store.NextControlNumber(ctx, gsScope)
		if err != nil {
			abort()
			return nil, err
		}
		st, err := job.Store.NextControlNumber(ctx, stScope)
		if err != nil {
			abort()
			return nil, err
		}
		base := FileName(job.Month, cf.County, isa)
		if cf.HCP != "" && fp.FileName != "" {
			n, err := job.Store.NextControlNumber(ctx, "FILE/274/"+cf.HCP+"/"+now.Format("20060102"))
			if err != nil {
				abort()
				return nil, err
			}
			base = fp.OutputName(cf.HCP, now, n)
		}
		name := filepath.Join(job.OutDir, base)
		if _, err := os.Stat(name); err == nil {
			abort()
			return nil, fmt.Errorf("%s already exists: the state directory was reset or is shared; refusing to overwrite it", name)
		}
		f, err := atomicfile.Create(name, prefix)
		if err != nil {
			abort()
			return nil, err
		}
		open = append(open, f)
		h := x274.Header{
			Interchange: x12.InterchangeHeader{
				AuthQualifier: pi.AuthQualifier, AuthInfo: authInfo,
				SenderQualifier: pi.SenderQualifier, SenderID: pi.SenderID,
				ReceiverQualifier: pi.ReceiverQualifier, ReceiverID: pi.ReceiverID,
				Date: now, ControlNumber: isa, AckRequested: pi.AckRequested, Usage: pi.Usage,
			},
			Group:              x12.GroupHeader{SenderCode: fp.Group.SenderCode, ReceiverCode: fp.Group.ReceiverCode, Date: now, ControlNumber: gs},
			TransactionControl: st,
			Purpose:            cfg.Providers.TransactionPurpose,
			Reference:          fmt.Sprintf("%s-%s-%09d", job.Month.Compact(), cmp.Or(cf.HCP, cf.County), isa),
			Created:            now,
			ExtractDate:        civil.FromTime(now),
			Contact:            &x274.Contact{Name: fp.Submitter.ContactName, Phone: fp.Submitter.ContactPhone, Email: fp.Submitter.ContactEmail},
			ContactFunction:    cfg.Providers.ContactFunction,
			Source:             x274.Party{Name: fp.Submitter.Name, IDQualifier: "PI", ID: fp.Submitter.ID},
			Network:            cfg.Providers.NetworkName,
			Receiver:           x274.Party{Name: fp.Receiver.Name, IDQualifier: cfg.Providers.ReceiverIDQualifier, ID: fp.Receiver.ID},
		}
		if fp.Plan.TIN != "" {
			h.Source = x274.Party{Name: fp.Submitter.Name, IDQualifier: x274.QualTIN, ID: fp.Plan.TIN} // NM1*ACV … FI <TIN> (B7.5 [P])
		}
		enc := x274.NewEncoder(f, x12.DefaultDelimiters, h, opts...)
		for i := range cf.Groups {
			if err := enc.Encode(&cf.Groups[i]); err != nil {
				abort()
				return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
			}
		}
		if err := enc.Close(); err != nil {
			abort()
			return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		if err := f.Sync(); err != nil {
			abort()
			return nil, err
		}
		if err := check(ctx, f.TempName()); err != nil {
			abort()
			return nil, fmt.Errorf("%s: %w", filepath.Base(name), err)
		}
		res.Files = append(res.Files, Output{County: cf.County, HCP: cf.HCP, Counties: cf.Counties, Path: name, Interchange: isa, Groups: len(cf.Groups), Sites: cf.Sites, Providers: cf.Providers})
	}
	for i, f := range open {
		if err := atomicfile.Rename(f.TempName(), f.FinalName()); err != nil {
			for _, g := range open[i:] {
				g.Abort()
			}
			return nil, err
		}
	}
	for _, o := range res.Files {
		log.Info("provider file written", "month", job.Month.String(), "county", o.County, "file", filepath.Base(o.Path),
			"interchange", o.Interchange, "sites", o.Sites, "providers", o.Providers)
	}
	return res, nil
}

// ErrInvalid means a file the job wrote fails the 274 table: nothing is
// renamed into place then (a gateway bug or a mapping the table refuses).
var ErrInvalid = errors.New("the 274 written does not validate")

// registry274 is a registry holding the 274 table only, built on first use.
var registry274 = sync.OnceValues(func() (*ig.Registry, error) {
	r := &ig.Registry{}
	return r, x274.Register(r)
})

// check validates a written file against the 274 table before it may go out.
func check(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	reg, err := registry274()
	if err != nil {
		return err
	}
	var first []string
	sum, err := ig.NewValidator(ig.Options{Registry: reg, OnFinding: func(fd *ig.Finding) {
		if len(first) < 5 {
			first = append(first, fd.String())
		}
	}}).Validate(ctx, f)
	if err != nil {
		return err
	}
	if !sum.OK() {
		return fmt.Errorf("%w: %d error(s): %s", ErrInvalid, sum.Errors, strings.Join(first, "; "))
	}
	return nil
}

// TablesOf returns the rule tables the roster and the mapping are checked
// against.
func TablesOf(rs *rules.Set) roster.Tables {
	return roster.Tables{Rules: rs.Tables, Coding: rs.Coding}
}
