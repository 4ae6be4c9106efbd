// Package storetest is the conformance suite every store.LedgerStore
// implementation (with its enrollment tables) passes: the same tests run against SQLite and PostgreSQL,
// so the daemon can count on the same behaviour from both.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// Backend describes the implementation under test.
type Backend struct {
	// Fresh makes a new, empty database for one test and returns how to
	// open it: open(owner) opens it as instance owner. Calling open again
	// opens the same database again: the same instance restarted, or (with
	// Shared) another instance at the same time. Fresh closes what it opened
	// when the test ends.
	Fresh func(t *testing.T) (open func(owner string) store.LedgerStore)
	// Shared is true when several instances may use one database at once
	// (PostgreSQL); the concurrency tests run only then.
	Shared bool
}

// Run runs the suite.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name   string
		shared bool
		fn     func(t *testing.T, open func(string) store.LedgerStore)
	}{
		{"ControlNumbersPersistAndNeverRepeat", false, controlNumbers},
		{"RunControlNumbersRollBackWithTheRun", false, runControlNumbers},
		{"RecordLinesDuplicates", false, recordLinesDuplicates},
		{"SentClaimsAndEncounterIDs", false, sentClaims},
		{"SentClaimsOfTheirProvider", false, sentClaimsOfProviders},
		{"EncounterAnswersAndStatuses", false, encounterAnswers},
		{"EncounterAnswersByStem", false, encounterAnswersByStem},
		{"SentClaimLatestFrequency", false, sentClaimLatestFrequency},
		{"EncounterSetAnswersByFile", false, encounterSetAnswersByFile},
		{"CorrectionKeysFollowDHCSAnswers", false, correctionKeys},
		{"WebUsersAndSessions", false, webUsersAndSessions},
		{"WebAuditManyAnyBacklog", false, webAuditManyAnyBacklog},
		{"WebDecisionsWithTheRun", false, webDecisionsWithTheRun},
		{"WebDuplicatePriorRunAndBillingNPIs", false, webDuplicatePriorRun},
		{"WebFilesAndRequeue", false, webFilesAndRequeue},
		{"WebRequeueFromTheRecordedQuarantinePath", false, requeueFromQuarantinePath},
		{"HL7InboxPendingUntilProcessed", false, hl7Inbox},
		{"ADTEventsStoredOnceExceptionsKept", false, adtEvents},
		{"ADTCancelsMergesUpdates", false, adtCancelsMergesUpdates},
		{"ADTCancelsTheLatestOfTheirVisit", false, adtCancelsOfTheVisit},
		{"ADTMemberLoadedLater", false, adtMemberLoadedLater},
		{"ADTUnknownMemberSentAgain", false, adtUnknownMemberSentAgain},
		{"ADTLargeBatch", false, adtLargeBatch},
		{"ADTOneBatchStoredAndWaiting", false, adtOneBatch},
		{"ADTBatchOfManySendersAndSources", false, adtManySources},
		{"ADTAdmissionTypeRoundTrip", false, adtAdmissionType},
		{"ADTSendingSystems", false, adtSendingSystems},
		{"ADTNoticesRecorded", false, adtNoticesRecorded},
		{"ADTCancelsWithTheirEventsNotices", false, adtCancelsWithTheirEventsNotices},
		{"ADTNoticesRunDelivered", false, adtNoticesRunDelivered},
		{"ADTNoticesRunUndone", false, adtNoticesRunUndone},
		{"ADTNoticesUndeliveredLate", false, adtNoticesUndeliveredLate},
		{"AbandonedRunLeavesNoLines", false, abandonedRun},
		{"CheckRunLeavesNothing", false, checkRun},
		{"WrittenRunIsPendingUntilCompleted", false, writtenRunPending},
		{"LedgerRegisterOncePerPendingPath", false, registerOnce},
		{"LedgerListsNewestFirst", false, listsNewestFirst},
		{"LedgerClaimProcessDeliverArchive", false, ledgerHappyPath},
		{"LedgerSameContentIsADuplicate", false, sameContent},
		{"LedgerQuarantinedContentMayComeAgain", false, quarantinedContent},
		{"LedgerBoundRunCommitsTheEntry", false, boundRunCommits},
		{"LedgerBoundRunRefusedWhenNotHeld", false, boundRunNotHeld},
		{"LedgerRetryAndRelease", false, retryAndRelease},
		{"LedgerStartsCountTakesNotEndedByARetryOrARelease", false, startsCountUnendedTakes},
		{"LedgerReleasedClaimIsQueuedAgain", false, releaseClaim},
		{"LedgerLeaseExpiryHandsOver", false, leaseExpiry},
		{"LedgerTakeOverAdoptsCommittedRun", false, adoptRun},
		{"LedgerTimesFollowTheClock", false, ledgerTimes},
		{"LedgerNothingPendingNoSuchFile", false, ledgerNothingPending},
		{"RosterLoadCountsAndLoadsEachFileOnce", false, rosterLoadCounts},
		{"RosterSitesMissingFromALaterFileStay", false, rosterSitesStay},
		{"RosterLoadIsAllOrNothing", false, rosterLoadAllOrNothing},
		{"RosterContractsByNPI", false, rosterContracts},
		{"RosterSiteRecordsForAPeriod", false, rosterSiteRecords},
		{"RosterSurvivesReopen", false, rosterSurvivesReopen},
		{"EnrollmentLoads", false, enrollmentLoads},
		{"EnrollmentFullFileListsAMemberTwice", false, enrollmentFullFileListsAMemberTwice},
		{"EnrollmentFullFileCutsItsPlanCodes", false, enrollmentFullFileCutsItsPlanCodes},
		{"EnrollmentChangeFileEndsDSNP", false, enrollmentChangeFileEndsDSNP},
		{"EnrollmentChangeFileOlderThanAFullFile", false, enrollmentFileOrder},
		{"EnrollmentManyMembers", false, manyMembers},
		{"EnrollmentAuthorizationsAndUsage", false, authorizationsAndUsage},
		{"MonitoringMonthMembersAndSubmissions", false, monitoring},
		{"ConcurrentTakeGivesEachEntryOnce", true, concurrentTake},
		{"ConcurrentRosterLoadsLoadAFileOnce", true, concurrentRosterLoads},
		{"ConcurrentOnceRegistersOnce", true, concurrentOnce},
		{"ConcurrentRunsSeeEachOthersLines", true, concurrentRuns},
		{"ConcurrentSameContentOneWins", true, concurrentContent},
		{"OpenRunOfLiveInstanceIsNotPending", true, liveRunNotPending},
		{"BoundRunsCommitWhileLeasesRenew", true, commitWhileRenewing},
		{"ConcurrentRunsHoldUsageCounters", true, concurrentUsage},
		{"PrefetchedUsageReadsAndHoldsAsUsage", true, prefetchedUsage},
		{"ConcurrentLoadsOfOneContentLoadOnce", true, concurrentLoadOnce},
		{"InboundInterchangeDuplicates", false, inboundDuplicates},
		{"InboundBatchByDelivery", false, inboundBatch},
		{"PendingLinesCountUntilSent", false, pendingLines},
		{"PendingLinesReleasedByARejectingRun", false, releasedLines},
		{"PendingLinesCountInUsage", false, pendingUsage},
		{"PrefetchedLinesDecideTheSame", false, prefetchedLines},
		{"PrefetchedLineSentMeanwhileFailsTheRun", true, prefetchedLineSentMeanwhile},
		{"PendingBatchesListedAndReleased", false, pendingBatches},
		{"ConcurrentInboundInterchangeRecordedOnce", true, concurrentInbound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.shared && !b.Shared {
				t.Skip("needs a store shared by several instances")
			}
			tc.fn(t, b.Fresh(t))
		})
	}
}

var ctx = context.Background()

// Key returns a line key with the given high and low bytes.
func Key(hi, lo byte) (k [16]byte) {
	k[0], k[7], k[15] = hi, hi, lo
	return k
}

func begin(t *testing.T, s store.Store) store.Run {
	t.Helper()
	r, err := s.BeginRun(ctx, "convert", "{}")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func record(t *testing.T, r store.Run, lines ...store.Line) []*store.PriorLine {
	t.Helper()
	p, err := r.RecordLines(ctx, lines)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// must(f())(t) returns f's value, failing the test on f's error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func controlNumbers(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	for want := int64(1); want <= 3; want++ {
		if got, err := s.NextControlNumber(ctx, "ISA/a"); err != nil || got != want {
			t.Fatalf("next = %d %v, want %d", got, err, want)
		}
	}
	if got := must(s.NextControlNumber(ctx, "ISA/b"))(t); got != 1 {
		t.Errorf("independent scope starts at %d", got)
	}
	s.Close()
	s2 := open("a")
	if got := must(s2.NextControlNumber(ctx, "ISA/a"))(t); got != 4 {
		t.Errorf("after reopen next = %d, want 4", got)
	}
}

func runControlNumbers(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	r := begin(t, s)
	if n := must(r.NextControlNumber(ctx, "ST/x"))(t); n != 1 {
		t.Fatalf("first ST = %d", n)
	}
	if err := r.Abandon(ctx, "test"); err != nil {
		t.Fatal(err)
	}
	r2 := begin(t, s)
	if n := must(r2.NextControlNumber(ctx, "ST/x"))(t); n != 1 {
		t.Errorf("ST after an abandoned run = %d, want 1", n)
	}
	if err := r2.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	r3 := begin(t, s)
	if n := must(r3.NextControlNumber(ctx, "ST/x"))(t); n != 2 {
		t.Errorf("ST after a written run = %d, want 2", n)
	}
	r3.Abandon(ctx, "test")
}

func recordLinesDuplicates(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	run1 := begin(t, s)
	prior := record(t, run1,
		store.Line{Key: Key(1, 1), Control: "1-1", Invoice: "INV-1", LineNo: "1"},
		store.Line{Key: Key(2, 2), Control: "1-2", Invoice: "INV-1", LineNo: "2"},
		store.Line{Key: Key(1, 1), Control: "1-3", Invoice: "INV-2", LineNo: "1"}) // again in this run
	if prior[0] != nil || prior[1] != nil || prior[2] == nil || prior[2].Control != "1-1" || prior[2].Run != run1.ID() {
		t.Fatalf("first batch priors = %+v %+v %+v", prior[0], prior[1], prior[2])
	}
	// A later batch of the same run sees the earlier batches.
	prior = record(t, run1, store.Line{Key: Key(2, 2), Control: "1-4"}, store.Line{Key: Key(4, 4), Control: "1-5"})
	if prior[0] == nil || prior[0].Control != "1-2" || prior[1] != nil {
		t.Fatalf("second batch priors = %+v %+v", prior[0], prior[1])
	}
	if err := run1.Written(ctx, "out.tmp", "out.837"); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteRun(ctx, run1.ID(), "ok"); err != nil {
		t.Fatal(err)
	}
	run2 := begin(t, s)
	prior = record(t, run2, store.Line{Key: Key(2, 2), Control: "2-1"}, store.Line{Key: Key(3, 3), Control: "2-2"})
	if prior[0] == nil || prior[0].Invoice != "INV-1" || prior[0].LineNo != "2" || prior[0].Output != "out.837" ||
		prior[0].Run != run1.ID() || prior[0].At.IsZero() || prior[1] != nil {
		t.Fatalf("second run priors = %+v %+v", prior[0], prior[1])
	}
	run2.Abandon(ctx, "test")
}

func abandonedRun(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	run := begin(t, s)
	record(t, run, store.Line{Key: Key(5, 5), Control: "a"}, store.Line{Key: Key(9, 1), Control: "b"})
	if err := run.Abandon(ctx, "failed"); err != nil {
		t.Fatal(err)
	}
	run2 := begin(t, s)
	for i, p := range record(t, run2, store.Line{Key: Key(5, 5)}, store.Line{Key: Key(9, 1)}) {
		if p != nil {
			t.Errorf("line %d of an abandoned run counts as sent: %+v", i, p)
		}
	}
	run2.Abandon(ctx, "test")
	if pending := must(s.PendingRuns(ctx))(t); len(pending) != 0 {
		t.Errorf("abandoned runs are pending: %+v", pending)
	}
}

// checkRun: a check run sees its own lines as earlier lines, cannot be
// written, and leaves no line and no pending run behind.
func checkRun(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	c := must(s.BeginCheck(ctx, "check", "{}"))(t)
	record(t, c, store.Line{Key: Key(6, 6), Control: "c-1", Invoice: "I", LineNo: "1"})
	if p := record(t, c, store.Line{Key: Key(6, 6), Control: "c-2"})[0]; p == nil || p.Run != c.ID() || p.Control != "c-1" {
		t.Fatalf("a repeat within the check: prior %+v, want c-1 of run %d", p, c.ID())
	}
	if err := c.Written(ctx, "", ""); !errors.Is(err, store.ErrNoRun) {
		t.Fatalf("a check written: %v, want ErrNoRun", err)
	}
	c = must(s.BeginCheck(ctx, "check", "{}"))(t)
	record(t, c, store.Line{Key: Key(6, 6), Control: "c-3"})
	if err := c.Abandon(ctx, "check only"); err != nil {
		t.Fatal(err)
	}
	r := begin(t, s)
	if p := record(t, r, store.Line{Key: Key(6, 6), Control: "r-1"})[0]; p != nil {
		t.Errorf("a line of a check counts as sent: %+v", p)
	}
	r.Abandon(ctx, "test")
	if pending := must(s.PendingRuns(ctx))(t); len(pending) != 0 {
		t.Errorf("checks are pending: %+v", pending)
	}
}

func writtenRunPending(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	w := begin(t, s)
	record(t, w, store.Line{Key: Key(7, 7), Control: "w"})
	if err := w.Written(ctx, "t.tmp", "o.837"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := open("a") // the same instance, restarted
	pending := must(s2.PendingRuns(ctx))(t)
	if len(pending) != 1 || pending[0].ID != w.ID() || pending[0].Status != store.RunWritten || pending[0].Temp != "t.tmp" || pending[0].Output != "o.837" {
		t.Fatalf("pending = %+v", pending)
	}
	if err := s2.AbortRun(ctx, w.ID(), "output lost"); err != nil {
		t.Fatal(err)
	}
	if err := s2.AbortRun(ctx, w.ID(), "again"); !errors.Is(err, store.ErrNoRun) {
		t.Errorf("second abort err = %v, want ErrNoRun", err)
	}
	r := begin(t, s2)
	if p := record(t, r, store.Line{Key: Key(7, 7)}); p[0] != nil {
		t.Error("line counted as sent after its run was aborted")
	}
	r.Abandon(ctx, "test")
}

func notice(path string) store.FileNotice {
	return store.FileNotice{Source: "inbox", Path: path, Name: path, Kind: "invoice", Size: 10, ModTime: time.Unix(1700000000, 0)}
}

func register(t *testing.T, s store.Ledger, path string) int64 {
	t.Helper()
	id, added, err := s.RegisterFile(ctx, notice(path))
	if err != nil || !added {
		t.Fatalf("register %s: added=%v err=%v", path, added, err)
	}
	return id
}

// take takes the next entry and checks it is id.
func take(t *testing.T, s store.Ledger, owner string, id int64) *store.FileEntry {
	t.Helper()
	e, err := s.TakeFile(ctx, owner, "node1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if e == nil || e.ID != id {
		t.Fatalf("%s took %+v, want file %d", owner, e, id)
	}
	if e.Owner != owner {
		t.Fatalf("taken entry owner %q, want %q", e.Owner, owner)
	}
	return e
}

func noneDue(t *testing.T, s store.Ledger, owner string) {
	t.Helper()
	if e, err := s.TakeFile(ctx, owner, "node1", time.Minute); err != nil || e != nil {
		t.Fatalf("%s took %+v (%v), want nothing", owner, e, err)
	}
}

// listsNewestFirst: Files lists the newest entries first, at most the
// limit asked for; CountFiles counts them by state.
func listsNewestFirst(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	ids := []int64{register(t, s, "a.csv"), register(t, s, "b.csv"), register(t, s, "c.csv")}
	files := must(s.Files(ctx, 2))(t)
	if len(files) != 2 || files[0].ID != ids[2] || files[1].ID != ids[1] || files[0].Name != "c.csv" {
		t.Errorf("files(2) = %+v", files)
	}
	if all := must(s.Files(ctx, 0))(t); len(all) != 3 || all[2].ID != ids[0] {
		t.Errorf("files(0) = %+v", all)
	}
	if counts := must(s.CountFiles(ctx))(t); counts[store.FileQueued] != 3 || len(counts) != 1 {
		t.Errorf("counts = %v", counts)
	}
}

func registerOnce(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	id := register(t, s, "a.csv")
	if _, added, err := s.RegisterFile(ctx, notice("a.csv")); err != nil || added {
		t.Fatalf("second register of a pending path: added=%v err=%v", added, err)
	}
	e := take(t, s, "a", id)
	if e.State != store.FileQueued || e.Kind != "invoice" || e.Size != 10 || !e.ModTime.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("entry = %+v", e)
	}
	must(s.ClaimFile(ctx, id, "a", "processing/1-a.csv", "/work/1"))(t)
	if err := s.FinishFile(ctx, id, "a", store.FileLost, "vanished"); err != nil {
		t.Fatal(err)
	}
	// Final: the same path may come again (a new drop with the same name).
	id2 := register(t, s, "a.csv")
	if id2 == id {
		t.Fatal("same id reused")
	}
	// Once: registered only the first time, ever.
	n := notice("job/2026-10")
	n.Once, n.Source = true, "schedule"
	if _, added, err := s.RegisterFile(ctx, n); err != nil || !added {
		t.Fatalf("first Once register: %v %v", added, err)
	}
	if _, added, err := s.RegisterFile(ctx, n); err != nil || added {
		t.Fatalf("second Once register: %v %v", added, err)
	}
}

// toProcessing registers, takes, claims and hashes a file.
func toProcessing(t *testing.T, s store.Ledger, owner, path, hash string) *store.FileEntry {
	t.Helper()
	id := register(t, s, path)
	take(t, s, owner, id)
	must(s.ClaimFile(ctx, id, owner, "processing/"+path, "/work"))(t)
	e := must(s.SetFileContent(ctx, id, owner, hash, "/work"))(t)
	return e
}

func ledgerHappyPath(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	id := register(t, s, "a.csv")
	if _, err := s.ClaimFile(ctx, id, "a", "p", "w"); !errors.Is(err, store.ErrNotHeld) {
		t.Fatalf("claim before take: %v, want ErrNotHeld", err)
	}
	take(t, s, "a", id)
	if _, err := s.ClaimFile(ctx, id, "b", "p", "w"); !errors.Is(err, store.ErrNotHeld) {
		t.Fatalf("claim by another owner: %v, want ErrNotHeld", err)
	}
	e := must(s.ClaimFile(ctx, id, "a", "processing/1-a.csv", "/work/1"))(t)
	if e.State != store.FileClaimed || e.ClaimPath != "processing/1-a.csv" || e.WorkDir != "/work/1" {
		t.Fatalf("claimed = %+v", e)
	}
	e = must(s.SetFileContent(ctx, id, "a", "aaaa", "/work/1"))(t)
	if e.State != store.FileProcessing || e.Hash != "aaaa" || e.DuplicateOf != 0 {
		t.Fatalf("content = %+v", e)
	}
	outs := []store.FileOutput{{Role: "encounters", Destination: "dhcs", Name: "e.837", Local: "/work/1/e.837"},
		{Role: "rejects", Destination: "responses", Name: "r.csv", Local: "/work/1/r.csv"}}
	e = must(s.FileProcessed(ctx, id, "a", outs, "2 lines"))(t)
	if e.State != store.FileProcessed || len(e.Outputs) != 2 || e.Outputs[1].Name != "r.csv" || e.Note != "2 lines" {
		t.Fatalf("processed = %+v", e)
	}
	if _, err := s.DecideFile(ctx, id, "a", store.FileQuarantine, "no"); !errors.Is(err, store.ErrNotHeld) {
		t.Fatalf("quarantine after processing: %v, want ErrNotHeld (its lines were sent)", err)
	}
	if err := s.FileOutputDelivery(ctx, id, "a", 0, true, false); err != nil {
		t.Fatal(err)
	}
	if err := s.FileOutputDelivery(ctx, id, "a", 0, false, true); err != nil {
		t.Fatal(err)
	}
	if err := s.FileOutputDelivery(ctx, id, "a", 5, false, true); err == nil {
		t.Fatal("delivery of a missing output accepted")
	}
	e = must(s.File(ctx, id))(t)
	if !e.Outputs[0].Attempted || !e.Outputs[0].Delivered || e.Outputs[1].Attempted || e.Outputs[1].Delivered {
		t.Fatalf("outputs after delivery = %+v", e.Outputs)
	}
	e = must(s.DecideFile(ctx, id, "a", store.FileArchive, ""))(t)
	if e.State != store.FileArchive {
		t.Fatalf("decided = %+v", e)
	}
	if err := s.FinishFile(ctx, id, "a", store.FileQuarantined, ""); !errors.Is(err, store.ErrNotHeld) {
		t.Fatalf("quarantined from archive: %v", err)
	}
	if err := s.FinishFile(ctx, id, "a", store.FileArchived, "archive/a.csv"); err != nil {
		t.Fatal(err)
	}
	e = must(s.File(ctx, id))(t)
	if e.State != store.FileArchived || e.Owner != "" || e.Note != "2 lines; archive/a.csv" {
		t.Fatalf("archived = %+v", e)
	}
	noneDue(t, s, "a")
	if _, ok, err := s.NextFileDue(ctx, "a", "node1"); err != nil || ok {
		t.Fatalf("next due with nothing pending: ok=%v err=%v", ok, err)
	}
	counts := must(s.CountFiles(ctx))(t)
	if counts[store.FileArchived] != 1 || len(counts) != 1 {
		t.Errorf("counts = %v", counts)
	}
	if files := must(s.Files(ctx, 0))(t); len(files) != 1 || files[0].ID != id {
		t.Errorf("files = %+v", files)
	}
	if _, err := s.File(ctx, id+100); !errors.Is(err, store.ErrNoFile) {
		t.Errorf("unknown file: %v, want ErrNoFile", err)
	}
}

func sameContent(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	first := toProcessing(t, s, "a", "a.csv", "h1")
	second := toProcessing(t, s, "b", "b.csv", "h1")
	if second.State != store.FileArchive || second.DuplicateOf != first.ID || second.Note == "" {
		t.Fatalf("second = %+v, want a duplicate of %d", second, first.ID)
	}
	// Still a duplicate after the first was archived.
	must(s.FileProcessed(ctx, first.ID, "a", nil, ""))(t)
	must(s.DecideFile(ctx, first.ID, "a", store.FileArchive, ""))(t)
	if err := s.FinishFile(ctx, first.ID, "a", store.FileArchived, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishFile(ctx, second.ID, "b", store.FileArchived, ""); err != nil {
		t.Fatal(err)
	}
	third := toProcessing(t, s, "c", "c.csv", "h1")
	if third.DuplicateOf != first.ID {
		t.Fatalf("third = %+v", third)
	}
	other := toProcessing(t, s, "d", "d.csv", "h2")
	if other.State != store.FileProcessing {
		t.Fatalf("different content = %+v", other)
	}
}

func quarantinedContent(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	bad := toProcessing(t, s, "a", "a.csv", "h1")
	must(s.DecideFile(ctx, bad.ID, "a", store.FileQuarantine, "not an invoice"))(t)
	if err := s.FinishFile(ctx, bad.ID, "a", store.FileQuarantined, "quarantine/a.csv"); err != nil {
		t.Fatal(err)
	}
	e := must(s.File(ctx, bad.ID))(t)
	if e.State != store.FileQuarantined || e.Note != "not an invoice; quarantine/a.csv" {
		t.Fatalf("quarantined = %+v", e)
	}
	again := toProcessing(t, s, "a", "a.csv", "h1")
	if again.State != store.FileProcessing || again.DuplicateOf != 0 {
		t.Fatalf("redropped after quarantine = %+v", again)
	}
}

func boundRunCommits(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	e := toProcessing(t, s, "a", "a.csv", "h1")
	committed := 0
	bound := s.BindRuns(e.ID, "a", "/work/bound", func() { committed++ })
	r := begin(t, bound)
	record(t, r, store.Line{Key: Key(1, 1), Control: "x"})
	if got := must(s.File(ctx, e.ID))(t); got.State != store.FileProcessing {
		t.Fatalf("entry %s before the run is written", got.State)
	}
	if err := r.Written(ctx, "/work/t.tmp", "/work/e.837"); err != nil {
		t.Fatal(err)
	}
	got := must(s.File(ctx, e.ID))(t)
	if got.State != store.FileCommitted || got.RunID != r.ID() || got.RunOutput != "/work/e.837" || got.WorkDir != "/work/bound" || committed != 1 {
		t.Fatalf("after Written: %+v (afterCommit called %d times)", got, committed)
	}
	// The run is pending until completed, as any run.
	if p := must(s.PendingRuns(ctx))(t); len(p) != 1 || p[0].ID != r.ID() {
		t.Fatalf("pending = %+v", p)
	}
	if err := s.CompleteRun(ctx, r.ID(), "ok"); err != nil {
		t.Fatal(err)
	}
	got = must(s.FileProcessed(ctx, e.ID, "a", []store.FileOutput{{Role: "encounters", Name: "e.837"}}, ""))(t)
	if got.State != store.FileProcessed {
		t.Fatalf("processed = %+v", got)
	}
	// Committed entries go back to processing only by RedoFile.
	e2 := toProcessing(t, s, "b", "b.csv", "h2")
	r2 := begin(t, s.BindRuns(e2.ID, "b", "/work/bound", nil))
	if err := r2.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	got = must(s.RedoFile(ctx, e2.ID, "b", "its 837 was lost"))(t)
	if got.State != store.FileProcessing || got.RunID != 0 {
		t.Fatalf("redone = %+v", got)
	}
}

func boundRunNotHeld(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	e := toProcessing(t, s, "a", "a.csv", "h1")
	r := begin(t, s.BindRuns(e.ID, "someone-else", "/work/bound", nil))
	record(t, r, store.Line{Key: Key(1, 1), Control: "x"})
	n := must(r.NextControlNumber(ctx, "ISA/x"))(t)
	err := r.Written(ctx, "t", "o")
	if !errors.Is(err, store.ErrNotHeld) {
		t.Fatalf("Written for an entry the owner does not hold: %v, want ErrNotHeld", err)
	}
	r.Abandon(ctx, err.Error())
	// Nothing of the run survived: its line is new, its control number free.
	r2 := begin(t, s)
	if p := record(t, r2, store.Line{Key: Key(1, 1), Control: "y"}); p[0] != nil {
		t.Error("a refused run's line counts as sent")
	}
	if n2 := must(r2.NextControlNumber(ctx, "ISA/x"))(t); n2 != n {
		t.Errorf("control number after a refused run = %d, want %d again", n2, n)
	}
	r2.Abandon(ctx, "test")
	if got := must(s.File(ctx, e.ID))(t); got.State != store.FileProcessing {
		t.Errorf("entry %s, want processing", got.State)
	}
}

func retryAndRelease(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	id := register(t, s, "a.csv")
	take(t, s, "a", id)
	e := must(s.RetryFile(ctx, id, "a", "sftp: connection refused", false, time.Hour, false))(t)
	if e.Attempts != 1 || e.Failures != 0 || e.LastError != "sftp: connection refused" || e.Owner != "a" {
		t.Fatalf("after retry = %+v", e)
	}
	noneDue(t, s, "a")
	noneDue(t, s, "b")
	wait, ok, err := s.NextFileDue(ctx, "a", "node1")
	if err != nil || !ok || wait < 50*time.Minute || wait > time.Hour+time.Minute {
		t.Fatalf("next due = %v %v %v, want about an hour", wait, ok, err)
	}
	// Due now and released: anyone may take it.
	e = must(s.RetryFile(ctx, id, "a", "bad", true, 0, true))(t)
	if e.Attempts != 2 || e.Failures != 1 || e.Owner != "" {
		t.Fatalf("after released retry = %+v", e)
	}
	take(t, s, "b", id)
	if _, err := s.ClaimFile(ctx, id, "a", "p", "w"); !errors.Is(err, store.ErrNotHeld) {
		t.Fatalf("former owner claims: %v", err)
	}
	// Release on shutdown: pre-commit entries go back to the queue.
	if err := s.ReleaseFiles(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	take(t, s, "a", id)
}

// startsCountUnendedTakes: every take of a pre-commit entry starts an
// attempt; a recorded retry or a shutdown's release ends it, a crash (the
// entry taken again while its start never ended) does not. Takes after the
// commit do not count.
func startsCountUnendedTakes(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	id := register(t, s, "a.csv")
	starts := func(want int, after string) {
		t.Helper()
		e := must(s.File(ctx, id))(t)
		if e.Starts != want {
			t.Fatalf("after %s: starts = %d, want %d", after, e.Starts, want)
		}
	}
	if e := take(t, s, "a", id); e.Starts != 1 {
		t.Fatalf("first take: starts = %d, want 1", e.Starts)
	}
	take(t, s, "a", id) // the holder crashed and took it again
	starts(2, "a take after a crash")
	must(s.RetryFile(ctx, id, "a", "failed", true, 0, true))(t)
	starts(1, "a retry")
	take(t, s, "a", id)
	must(s.ClaimFile(ctx, id, "a", "processing/a.csv", "/work"))(t)
	take(t, s, "a", id) // crashed while claimed
	starts(3, "a crash while claimed")
	if err := s.ReleaseFiles(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	starts(2, "a clean shutdown's release")
	take(t, s, "b", id)
	must(s.SetFileContent(ctx, id, "b", "h1", "/work"))(t)
	must(s.FileProcessed(ctx, id, "b", []store.FileOutput{{Name: "x"}}, ""))(t)
	starts(3, "processed")
	take(t, s, "b", id) // after the commit: not a start
	starts(3, "a take of a processed entry")
}

// releaseClaim: a claimed or fetched entry whose source changed goes back
// to the queue, without its claim, work directory or hash (so the content
// index does not hold it), due after the delay, for any instance; a
// committed entry is refused.
func releaseClaim(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	e := toProcessing(t, s, "a", "a.csv", "h1")
	e = must(s.ReleaseClaim(ctx, e.ID, "a", "changed while being read", 300*time.Millisecond))(t)
	if e.State != store.FileQueued || e.ClaimPath != "" || e.Hash != "" || e.WorkDir != "" || e.Owner != "" ||
		e.Starts != 0 || !strings.Contains(e.Note, "changed while being read") {
		t.Fatalf("after release = %+v", e)
	}
	noneDue(t, s, "b")
	time.Sleep(400 * time.Millisecond)
	take(t, s, "b", e.ID)
	must(s.ClaimFile(ctx, e.ID, "b", "processing/a.csv", "/work"))(t)
	must(s.ReleaseClaim(ctx, e.ID, "b", "again", time.Hour))(t)
	// Same content under another entry is not a duplicate of a released one.
	other := toProcessing(t, s, "b", "b.csv", "h1")
	if other.DuplicateOf != 0 || other.State != store.FileProcessing {
		t.Fatalf("other = %+v", other)
	}
	r := begin(t, s.BindRuns(other.ID, "b", "/work", nil))
	if err := r.Written(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReleaseClaim(ctx, other.ID, "b", "x", 0); !errors.Is(err, store.ErrNotHeld) {
		t.Fatalf("release of a committed entry: %v", err)
	}
}

func leaseExpiry(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	id := register(t, s, "a.csv")
	e, err := s.TakeFile(ctx, "a", "node1", 300*time.Millisecond)
	if err != nil || e == nil || e.ID != id {
		t.Fatalf("take = %+v %v", e, err)
	}
	noneDue(t, s, "b") // a's lease holds
	wait, ok, err := s.NextFileDue(ctx, "b", "node1")
	if err != nil || !ok || wait > time.Second {
		t.Fatalf("next due for b = %v %v %v", wait, ok, err)
	}
	// Renewed, it holds longer than the first lease.
	if err := s.RenewLeases(ctx, "a", time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	noneDue(t, s, "b")
	time.Sleep(800 * time.Millisecond)
	take(t, s, "b", id) // expired: b takes it over
	if _, err := s.ClaimFile(ctx, id, "a", "p", "w"); !errors.Is(err, store.ErrNotHeld) {
		t.Fatalf("a claims after losing the lease: %v", err)
	}
	// An entry with outputs in a work directory goes only to the same node.
	must(s.ClaimFile(ctx, id, "b", "p", "/work/b"))(t)
	must(s.SetFileContent(ctx, id, "b", "h", "/work/b"))(t)
	must(s.FileProcessed(ctx, id, "b", []store.FileOutput{{Name: "x"}}, ""))(t)
	if err := s.RenewLeases(ctx, "b", 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if e, err := s.TakeFile(ctx, "c", "node2", time.Minute); err != nil || e != nil {
		t.Fatalf("another node took a processed entry: %+v %v", e, err)
	}
	if e, err := s.TakeFile(ctx, "c", "node1", time.Minute); err != nil || e == nil || e.ID != id {
		t.Fatalf("same node: %+v %v", e, err)
	}
}

// ledgerTimes: the ledger's times follow the clock (PostgreSQL's, on this
// machine here): a take's lease runs for the lease asked from the take, a
// retry or a released claim is due after its delay, and a file's
// modification time comes back as registered (to the microsecond), in UTC.
func ledgerTimes(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	mod := time.Date(2026, 3, 1, 12, 30, 45, 123456000, time.UTC)
	n := notice("t.csv")
	n.ModTime = mod.In(time.FixedZone("PST", -8*3600))
	before := time.Now()
	id, _, err := s.RegisterFile(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	e := must(s.TakeFile(ctx, "a", "node1", time.Hour))(t)
	after := time.Now()
	near := func(what string, got, lo, hi time.Time) {
		t.Helper()
		// A second either side: SQLite keeps milliseconds, and the clock
		// was read at other moments than the ledger's.
		if got.Before(lo.Add(-time.Second)) || got.After(hi.Add(time.Second)) || got.Location() != time.UTC {
			t.Errorf("%s = %v, want between %v and %v, in UTC", what, got, lo, hi)
		}
	}
	near("noticed", e.Noticed, before, after)
	near("updated", e.Updated, before, after)
	near("lease", e.LeaseUntil, before.Add(time.Hour), after.Add(time.Hour))
	if !e.ModTime.Equal(mod) || e.ModTime.Location() != time.UTC {
		t.Errorf("mod time = %v, want %v", e.ModTime, mod)
	}
	due := func(owner string, want time.Duration) {
		t.Helper()
		wait, ok, err := s.NextFileDue(ctx, owner, "node1")
		if err != nil || !ok || wait > want || wait < want-5*time.Second {
			t.Fatalf("next due for %s = %v %v %v, want %v", owner, wait, ok, err, want)
		}
	}
	must(s.RetryFile(ctx, id, "a", "later", false, 10*time.Minute, false))(t)
	noneDue(t, s, "a")
	due("a", 10*time.Minute)
	due("b", time.Hour) // a's lease
	must(s.ClaimFile(ctx, id, "a", "p", "w"))(t)
	must(s.ReleaseClaim(ctx, id, "a", "changed while read", 20*time.Minute))(t)
	due("b", 20*time.Minute)
	noneDue(t, s, "b")
}

// ledgerNothingPending: with no entry pending (none yet, or all final)
// nothing is due and none is taken; a file the ledger does not have is
// ErrNoFile.
func ledgerNothingPending(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	nothing := func(when string) {
		t.Helper()
		if wait, ok, err := s.NextFileDue(ctx, "a", "node1"); err != nil || ok {
			t.Fatalf("%s: next due = %v %v %v, want none", when, wait, ok, err)
		}
		noneDue(t, s, "a")
	}
	nothing("empty")
	id := register(t, s, "a.csv")
	take(t, s, "a", id)
	if err := s.FinishFile(ctx, id, "a", store.FileLost, "vanished"); err != nil {
		t.Fatal(err)
	}
	nothing("all final")
	if e, err := s.File(ctx, id+1); !errors.Is(err, store.ErrNoFile) {
		t.Fatalf("file %d = %+v %v, want ErrNoFile", id+1, e, err)
	}
}

func adoptRun(t *testing.T, open func(string) store.LedgerStore) {
	a := open("a")
	id := register(t, a, "a.csv")
	if e, err := a.TakeFile(ctx, "a", "node1", 200*time.Millisecond); err != nil || e == nil {
		t.Fatalf("take: %+v %v", e, err)
	}
	must(a.ClaimFile(ctx, id, "a", "p", "/work/a"))(t)
	must(a.SetFileContent(ctx, id, "a", "h", "/work/a"))(t)
	r := begin(t, a.BindRuns(id, "a", "/work/bound", nil))
	record(t, r, store.Line{Key: Key(3, 3), Control: "c"})
	if err := r.Written(ctx, "/work/a/t.tmp", "/work/a/e.837"); err != nil {
		t.Fatal(err)
	}
	a.Close() // a dies between the commit and the rename
	b := open("b")
	time.Sleep(300 * time.Millisecond)
	e, err := b.TakeFile(ctx, "b", "node1", time.Minute)
	if err != nil || e == nil || e.ID != id || e.State != store.FileCommitted || e.RunID != r.ID() {
		t.Fatalf("b took %+v %v", e, err)
	}
	pending := must(b.PendingRuns(ctx))(t)
	if len(pending) != 1 || pending[0].ID != r.ID() || pending[0].Temp != "/work/a/t.tmp" {
		t.Fatalf("b's pending runs after taking over = %+v", pending)
	}
}

func concurrentTake(t *testing.T, open func(string) store.LedgerStore) {
	const files, workers = 40, 4
	s := open("setup")
	for i := range files {
		register(t, s, fmt.Sprintf("f%03d.csv", i))
	}
	var mu sync.Mutex
	taken := map[int64]string{}
	var errs []error
	var wg sync.WaitGroup
	for w := range workers {
		owner := fmt.Sprintf("w%d", w)
		inst := open(owner)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fail := func(err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			for {
				e, err := inst.TakeFile(ctx, owner, "node1", time.Minute)
				if err != nil {
					fail(err)
					return
				}
				if e == nil {
					return
				}
				mu.Lock()
				prev, dup := taken[e.ID]
				taken[e.ID] = owner
				mu.Unlock()
				if dup {
					fail(fmt.Errorf("file %d taken by %s and %s", e.ID, prev, owner))
					return
				}
				// Finish it, as a worker would, so it is not due again.
				if err := inst.FinishFile(ctx, e.ID, owner, store.FileLost, "test"); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		t.Error(err)
	}
	if len(taken) != files {
		t.Errorf("%d files taken, want %d", len(taken), files)
	}
}

func concurrentRuns(t *testing.T, open func(string) store.LedgerStore) {
	for _, commit := range []bool{true, false} {
		t.Run(fmt.Sprintf("first commits=%v", commit), func(t *testing.T) {
			a, b := open("a"), open("b")
			k := Key(20, 1)
			if !commit {
				k = Key(21, 1)
			}
			ra := begin(t, a)
			record(t, ra, store.Line{Key: k, Control: "a-1", Invoice: "INV-A"})
			rb := begin(t, b)
			done := make(chan []*store.PriorLine, 1)
			go func() {
				p, err := rb.RecordLines(ctx, []store.Line{{Key: k, Control: "b-1"}})
				if err != nil {
					t.Error(err)
				}
				done <- p
			}()
			select {
			case <-done:
				t.Fatal("b's insert of a key a's open run holds did not wait for a")
			case <-time.After(200 * time.Millisecond):
			}
			if commit {
				if err := ra.Written(ctx, "", ""); err != nil {
					t.Fatal(err)
				}
			} else {
				ra.Abandon(ctx, "test")
			}
			p := <-done
			if commit && (p[0] == nil || p[0].Control != "a-1" || p[0].Run != ra.ID()) {
				t.Fatalf("after a committed, b's prior = %+v, want a's line", p[0])
			}
			if !commit && p[0] != nil {
				t.Fatalf("after a rolled back, b's prior = %+v, want none", p[0])
			}
			rb.Abandon(ctx, "test")
		})
	}
}

func concurrentContent(t *testing.T, open func(string) store.LedgerStore) {
	a, b := open("a"), open("b")
	ida, idb := register(t, a, "a.csv"), register(t, a, "b.csv")
	take(t, a, "a", ida)
	take(t, b, "b", idb)
	must(a.ClaimFile(ctx, ida, "a", "p", "w"))(t)
	must(b.ClaimFile(ctx, idb, "b", "p", "w"))(t)
	var wg sync.WaitGroup
	results := make([]*store.FileEntry, 2)
	for i, x := range []struct {
		s     store.LedgerStore
		id    int64
		owner string
	}{{a, ida, "a"}, {b, idb, "b"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := x.s.SetFileContent(ctx, x.id, x.owner, "same", "w")
			if err != nil {
				t.Error(err)
			}
			results[i] = e
		}()
	}
	wg.Wait()
	if results[0] == nil || results[1] == nil {
		t.FailNow()
	}
	processing := 0
	for _, e := range results {
		if e.State == store.FileProcessing {
			processing++
		} else if e.State != store.FileArchive || e.DuplicateOf == 0 {
			t.Errorf("loser = %+v, want a duplicate", e)
		}
	}
	if processing != 1 {
		t.Errorf("%d entries process the same content, want 1", processing)
	}
}

func liveRunNotPending(t *testing.T, open func(string) store.LedgerStore) {
	a, b := open("a"), open("b")
	r := begin(t, a)
	record(t, r, store.Line{Key: Key(30, 1), Control: "a-1"})
	if p := must(b.PendingRuns(ctx))(t); len(p) != 0 {
		t.Fatalf("another instance's open run is pending: %+v", p)
	}
	if p := must(a.PendingRuns(ctx))(t); len(p) != 0 {
		t.Fatalf("the instance's own open run is pending: %+v", p)
	}
	if err := r.Written(ctx, "t", "o"); err != nil {
		t.Fatal(err)
	}
	if p := must(b.PendingRuns(ctx))(t); len(p) != 0 {
		t.Fatalf("another instance's written run is pending: %+v", p)
	}
}

// commitWhileRenewing commits runs bound to ledger entries while the same
// owner renews its leases without pause, as the daemon's heartbeat does: a
// renewal that locked ledger_files and then runs in one transaction
// deadlocked with a run's commit, which locks them the other way round.
func commitWhileRenewing(t *testing.T, open func(string) store.LedgerStore) {
	s := open("a")
	stop := make(chan struct{})
	renewed := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				renewed <- nil
				return
			default:
			}
			if err := s.RenewLeases(ctx, "a", time.Minute); err != nil {
				renewed <- err
				return
			}
		}
	}()
	for i := 0; i < 40; i++ {
		e := toProcessing(t, s, "a", fmt.Sprintf("f%d.csv", i), fmt.Sprintf("hash-%d", i))
		r := begin(t, s.BindRuns(e.ID, "a", "/work/bound", nil))
		record(t, r, store.Line{Key: Key(byte(i), 3), Control: fmt.Sprint(i)})
		if err := r.Written(ctx, "/work/t.tmp", "/work/e.837"); err != nil {
			close(stop)
			t.Fatalf("commit %d while leases renew: %v", i, err)
		}
		if err := s.CompleteRun(ctx, r.ID(), "ok"); err != nil {
			t.Fatal(err)
		}
		must(s.FileProcessed(ctx, e.ID, "a", nil, ""))(t)
		must(s.DecideFile(ctx, e.ID, "a", store.FileArchive, ""))(t)
		if err := s.FinishFile(ctx, e.ID, "a", store.FileArchived, "archive/"+e.Name); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	if err := <-renewed; err != nil {
		t.Fatalf("renewing leases: %v", err)
	}
}

// concurrentOnce: instances registering a scheduled job's period at once
// (Once) register it once, and never again after it is done.
func concurrentOnce(t *testing.T, open func(string) store.LedgerStore) {
	const instances, periods = 4, 20
	ls := make([]store.LedgerStore, instances)
	for i := range ls {
		ls[i] = open(fmt.Sprintf("i%d", i))
	}
	for p := range periods {
		n := store.FileNotice{Source: "schedule", Path: fmt.Sprintf("job/2026-%02d", p), Name: "job", Kind: "274",
			ModTime: time.Unix(1700000000, 0), Once: true}
		var added atomic.Int32
		var wg sync.WaitGroup
		for _, l := range ls {
			wg.Go(func() {
				if _, ok, err := l.RegisterFile(ctx, n); err != nil {
					t.Error(err)
				} else if ok {
					added.Add(1)
				}
			})
		}
		wg.Wait()
		if added.Load() != 1 {
			t.Fatalf("%s registered %d times", n.Path, added.Load())
		}
	}
	// Done (lost, the quickest way to a final state): still never again.
	for {
		e := must(ls[0].TakeFile(ctx, "i0", "node1", time.Minute))(t)
		if e == nil {
			break
		}
		must(ls[0].ClaimFile(ctx, e.ID, "i0", "", "/work"))(t)
		if err := ls[0].FinishFile(ctx, e.ID, "i0", store.FileLost, "test"); err != nil {
			t.Fatal(err)
		}
	}
	n := store.FileNotice{Source: "schedule", Path: "job/2026-00", Name: "job", Kind: "274", Once: true}
	for _, l := range ls {
		if _, ok, err := l.RegisterFile(ctx, n); err != nil || ok {
			t.Errorf("a done period registered again: %v %v", ok, err)
		}
	}
}
