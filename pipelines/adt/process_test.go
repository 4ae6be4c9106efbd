package adt

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/config"
	"github.com/calaim-gateway/calaim-gateway/domain"
	"github.com/calaim-gateway/calaim-gateway/pipelines/ingest"
	"github.com/calaim-gateway/calaim-gateway/store"
)

var ctx = context.Background()

// newStore opens a SQLite store with the members cins.
func newStore(t *testing.T, cins ...string) *store.SQLite { return newStoreB(t, cins...) }

func newStoreB(t testing.TB, cins ...string) *store.SQLite {
	t.Helper()
	st, err := store.OpenSQLite(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	loadMembers(t, st, cins...)
	return st
}

func adtMsg(id, trigger, cin string) string {
	return "MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301083000||ADT^" + trigger + "|" + id + "|P|2.5.1\r" +
		"EVN|" + trigger + "|20260301082500\rPID|1||MRN7^^^STMARYS^MR~" + cin + "^^^CAMEDI^MA\rPV1|1|I|4W^^^STMARYS\r"
}

const (
	known   = "91234567A"
	unknown = "99999999Z"
)

func TestProcessFile(t *testing.T) {
	st := newStore(t, known)
	file := "BHS|^~\\&\r" + adtMsg("M1", "A01", known) + adtMsg("M1", "A01", known) + adtMsg("M2", "A01", unknown) +
		"MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301||ADT^A03|M3|P|2.5\rpv1|broken\r" + // a broken message
		adtMsg("M4", "A03", known) + adtMsg("", "A03", known) + "BTS|9\r"
	p := &Processor{Store: st, Batch: 2}
	at := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)
	res, err := p.Process(ctx, FileSource("in.hl7", strings.NewReader(file), at))
	if err != nil {
		t.Fatal(err)
	}
	if res.Messages != 6 || res.Stored != 2 || res.Duplicates != 1 || res.Exceptions != 3 {
		t.Errorf("result %+v", res)
	}
	want := []string{
		"in.hl7 #3 line 10 M2: " + store.ADTUnknownMember,
		"in.hl7 #4 line 15 M3: line 15: message 4 (MSH-10 \"M3\"), segment #2: segment ID \"pv1|brok\" is not three capital letters or digits",
		"in.hl7 #6 line 20 : line 20: message 6, segment MSH #1, field MSH-10: message control ID is missing",
		"in.hl7 #0 line 24 : line 24, segment BTS, field BTS-1: batch message count says 9, counted 6",
	}
	var got []string
	for _, p := range res.Problems {
		got = append(got, p.Source+" #"+itoa(p.Position)+" line "+itoa(p.Line)+" "+p.ControlID+": "+p.Reason)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	evs, err := st.ADTEvents(ctx, known)
	if err != nil || len(evs) != 2 || evs[0].Kind != domain.ADTAdmit || evs[1].Kind != domain.ADTDischarge || !evs[0].ReceivedAt.Equal(at) || evs[1].Position != 5 {
		t.Errorf("events %+v %v", evs, err)
	}
	exc, _ := st.ADTExceptions(ctx, time.Time{})
	if len(exc) != 3 || !strings.HasPrefix(string(exc[0].Raw), "MSH|^~\\&|EPIC|STMARYS|GW|PLAN|20260301083000||ADT^A01|M2|") {
		t.Errorf("exceptions keep the message: %+v", exc)
	}
	// The same file again changes nothing.
	again, err := p.Process(ctx, FileSource("in.hl7", strings.NewReader(file), at))
	if err != nil || again.Stored != 0 || again.Duplicates != 5 || again.Exceptions != 1 {
		t.Errorf("again %+v %v", again, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestInboxInputs feeds messages as the MLLP inbox would hand them over.
func TestInboxInputs(t *testing.T) {
	st := newStore(t, known)
	at := time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC)
	in := Inputs{
		RawInputs("mllp", 1, []byte(adtMsg("X1", "A04", known)), at)[0],
		RawInputs("mllp", 2, []byte("garbage"), at)[0],
		RawInputs("mllp", 3, []byte(adtMsg("X1", "A04", known)), at)[0],
	}
	res, err := (&Processor{Store: st}).Process(ctx, &in)
	if err != nil || res.Messages != 3 || res.Stored != 1 || res.Exceptions != 1 || res.Duplicates != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if p := res.Problems[0]; p.Source != "mllp" || p.Position != 2 || !strings.Contains(p.Reason, "not three capital letters") {
		t.Errorf("problem %+v", p)
	}
}

// TestSenderProfiles: the configured profile of the sending facility
// decides which PID-3 identifier is the CIN.
func TestSenderProfiles(t *testing.T) {
	st := newStore(t, "MRN7")
	cfg := config.Default()
	cfg.ADT.Senders = []config.ADTSender{{Name: "stmarys", Facilities: []string{"STMARYS"}, CINIdentifierType: "MR", CINAssigningAuthority: "STMARYS"}}
	in := Inputs{RawInputs("f", 1, []byte(adtMsg("P1", "A01", unknown)), time.Now())[0]}
	res, err := (&Processor{Store: st, Profiles: Profiles(cfg)}).Process(ctx, &in)
	if err != nil || res.Stored != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	evs, _ := st.ADTEvents(ctx, "MRN7")
	if len(evs) != 1 || evs[0].Sender != "stmarys" {
		t.Errorf("%+v", evs)
	}
}

func TestIngestFilesReport(t *testing.T) {
	st := newStore(t, known)
	dir := t.TempDir()
	path := filepath.Join(dir, "adt-1.hl7")
	os.WriteFile(path, []byte(adtMsg("R1", "A01", known)+adtMsg("R2", "A01", unknown)), 0o644)
	out := filepath.Join(dir, "out")
	rs := IngestFiles(ctx, ingest.Job{Files: []string{path}, OutDir: out, Store: st, Config: config.Default()})
	if len(rs) != 1 || rs[0].Err != nil || rs[0].Read != 2 || rs[0].Loaded != 1 || rs[0].Rejected != 1 || rs[0].Already != nil {
		t.Fatalf("%+v", rs)
	}
	b, err := os.ReadFile(filepath.Join(out, "adt-1.hl7"+ReportSuffix))
	if err != nil {
		t.Fatal(err)
	}
	want := "source,message,line,control_id,reason\nadt-1.hl7,2,5,R2," + store.ADTUnknownMember + "\n"
	if string(b) != want {
		t.Errorf("report\n%s\nwant\n%s", b, want)
	}
	rs = IngestFiles(ctx, ingest.Job{Files: []string{path}, OutDir: out, Store: st, Config: config.Default()})
	if rs[0].Already == nil || rs[0].Loaded != 0 || rs[0].Warnings != 2 {
		t.Errorf("again: %+v (every message, the exception's too, was recorded before)", rs[0])
	}
}

// TestProcessingIDsFromConfig: the configuration's processing IDs (P alone
// by default) apply to every profile, the built-in one too: a training
// message is an exception naming MSH-11, never an event.
func TestProcessingIDsFromConfig(t *testing.T) {
	training := func(id string) string {
		return strings.Replace(adtMsg(id, "A01", known), "|"+id+"|P|", "|"+id+"|T|", 1)
	}
	for _, tt := range []struct {
		name    string
		senders []config.ADTSender
		ids     []string
		stored  int
	}{
		{"default, built-in profile", nil, nil, 1},
		{"default, a profile of the facility", []config.ADTSender{{Name: "stm", Facilities: []string{"STMARYS"}, CINIdentifierType: "MA"}}, nil, 1},
		{"default, a catch-all profile", []config.ADTSender{{Name: "any", CINIdentifierType: "MA"}}, nil, 1},
		{"T taken", nil, []string{"P", "T"}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := newStore(t, known)
			cfg := config.Default()
			cfg.ADT.Senders, cfg.ADT.ProcessingIDs = tt.senders, tt.ids
			now := time.Now()
			in := Inputs{RawInputs("f", 1, []byte(adtMsg("P1", "A01", known)), now)[0], RawInputs("f", 2, []byte(training("T1")), now)[0]}
			res, err := (&Processor{Store: st, Profiles: Profiles(cfg)}).Process(ctx, &in)
			if err != nil || res.Messages != 2 || res.Stored != tt.stored || res.Exceptions != 2-tt.stored {
				t.Fatalf("%+v %v", res, err)
			}
			if tt.stored == 1 && !strings.Contains(res.Problems[0].Reason, "MSH-11") {
				t.Errorf("problem %+v, want it to name MSH-11", res.Problems[0])
			}
		})
	}
}
