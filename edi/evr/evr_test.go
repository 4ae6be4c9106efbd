package evr

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

func readAll(t *testing.T, r io.Reader) (*Header, []Transaction, []Encounter, error) {
	t.Helper()
	var ts []Transaction
	var es []Encounter
	h, err := Read(r, func(_ *Header, tr *Transaction, e *Encounter) error {
		ts, es = append(ts, *tr), append(es, *e)
		return nil
	})
	return h, ts, es, err
}

// The EVR as observed (B4 [I]): the header, each encounter with its
// transaction's identifiers, status, CLM01 and Encounter ID, and its
// encounter- and line-level errors in words (information left out).
func TestRead(t *testing.T) {
	f, err := os.Open("../../testdata/dhcs/PLAN_305_837P_MCE_20261123_00001_EVR.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, ts, es, err := readAll(t, f)
	if err != nil {
		t.Fatal(err)
	}
	if h.FileName != "PLAN_305_837P_MCE_20261123_00001.dat" || h.ValidationStatus != "Accepted" || h.SubmitterName != "PLAN" {
		t.Errorf("header %+v", h)
	}
	if len(es) != 3 {
		t.Fatalf("encounters %+v", es)
	}
	want := []struct {
		status, ref, id, trans string
		errs                   []string
	}{
		{"Accepted", "3057C1", "202611240000001", "0001", nil},
		{"Rejected", "3057C2", "202611240000002", "0001", []string{"0x39395df (SNIP): Duplicate encounter", "line 1: 0x001C3: Procedure code modifier invalid for date of service"}},
		{"Rejected", "3057C3", "20261124", "0002", []string{"0x0004A1: Member not eligible on date of service"}},
	}
	for i, w := range want {
		e := es[i]
		if e.Status != w.status || e.Reference != w.ref || e.EncounterID != w.id || ts[i].TransID != w.trans || ts[i].GS06 != "7" || ts[i].ISA13 != "000000007" {
			t.Errorf("encounter %d = %+v in %+v", i, e, ts[i])
		}
		if got := e.Errors(); strings.Join(got, "|") != strings.Join(w.errs, "|") {
			t.Errorf("encounter %d errors %q, want %q", i, got, w.errs)
		}
		if e.Line == 0 {
			t.Errorf("encounter %d has no line", i)
		}
	}
	if ts[2].Status != "Rejected" || ts[0].Number != "1" || ts[2].Number != "2" {
		t.Errorf("transactions %+v", ts)
	}
}

// Another XML document, broken XML and an error from the callback stop the read.
func TestReadErrors(t *testing.T) {
	if _, _, _, err := readAll(t, strings.NewReader(`<EncounterValidationResponse xmlns="urn:other"/>`)); err == nil || !strings.Contains(err.Error(), Namespace) {
		t.Errorf("other namespace: %v", err)
	}
	if _, _, _, err := readAll(t, strings.NewReader(`<EncounterValidationResponse xmlns="`+Namespace+`">`+"\n<Transactions>")); err == nil || !strings.Contains(err.Error(), "line") {
		t.Errorf("broken XML: %v", err)
	}
	if _, _, _, err := readAll(t, strings.NewReader("")); err == nil {
		t.Error("empty input: no error")
	}
	stop := errors.New("stop")
	_, err := Read(strings.NewReader(`<EncounterValidationResponse xmlns="`+Namespace+`"><Transactions><Transaction><Encounters><Encounter Status="Accepted"/></Encounters></Transaction></Transactions></EncounterValidationResponse>`),
		func(*Header, *Transaction, *Encounter) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("callback error: %v", err)
	}
}

// Encounters are read one at a time from a stream as large as it comes.
func TestReadStreams(t *testing.T) {
	const n = 5000
	pr, pw := io.Pipe()
	go func() {
		fmt.Fprintf(pw, `<EncounterValidationResponse xmlns="%s"><EncounterFileName>F.dat</EncounterFileName><Transactions><Transaction Status="Accepted"><Encounters>`, Namespace)
		for i := range n {
			fmt.Fprintf(pw, `<Encounter Status="Accepted"><EncounterReferenceNumber>305C%d</EncounterReferenceNumber><EncounterId>%015d</EncounterId></Encounter>`, i, i)
		}
		fmt.Fprint(pw, `</Encounters></Transaction></Transactions></EncounterValidationResponse>`)
		pw.Close()
	}()
	count := 0
	_, err := Read(pr, func(h *Header, _ *Transaction, e *Encounter) error {
		if h.FileName != "F.dat" || e.Reference != fmt.Sprintf("305C%d", count) {
			return fmt.Errorf("encounter %d: %+v", count, e)
		}
		count++
		return nil
	})
	if err != nil || count != n {
		t.Fatalf("read %d of %d: %v", count, n, err)
	}
}

// A Transaction or a whole file may answer without listing encounters:
// each Transaction's end is reported with how many encounters it held and
// its own findings; the file's own findings are on the header.
func TestReadTransactionsWithoutEncounters(t *testing.T) {
	doc := `<EncounterValidationResponse xmlns="` + Namespace + `">
  <EncounterFileName>F.dat</EncounterFileName>
  <ValidationStatus>Rejected</ValidationStatus>
  <FileResponses><Response Severity="Error"><Id>0x1</Id><Description>File rejected</Description></Response></FileResponses>
  <Transactions>
    <Transaction Status="Accepted">
      <Identifiers><Envelope IdentifierName="GroupControlNumber" IdentifierValue="7" /><Envelope IdentifierName="OriginatorTransactionId" IdentifierValue="0001" /></Identifiers>
      <Encounters><Encounter Status="Accepted"><EncounterReferenceNumber>C1</EncounterReferenceNumber></Encounter></Encounters>
    </Transaction>
    <Transaction Status="Rejected">
      <TransactionNumber>2</TransactionNumber>
      <Identifiers><Envelope IdentifierName="GroupControlNumber" IdentifierValue="7" /><Envelope IdentifierName="OriginatorTransactionId" IdentifierValue="0002" /></Identifiers>
      <TransactionResponses><Response Severity="Error"><Id>0x2</Id><IsSNIP>true</IsSNIP><Description>Bad envelope</Description></Response></TransactionResponses>
    </Transaction>
  </Transactions>
</EncounterValidationResponse>`
	var ends []string
	encounters := 0
	h, err := ReadTransactions(strings.NewReader(doc), func(*Header, *Transaction, *Encounter) error {
		encounters++
		return nil
	}, func(h *Header, tr *Transaction) error {
		ends = append(ends, fmt.Sprintf("%s %s/%s %d %q", tr.Status, tr.GS06, tr.TransID, tr.Encounters, Errors(tr.Responses)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`Accepted 7/0001 1 []`, `Rejected 7/0002 0 ["0x2 (SNIP): Bad envelope"]`}
	if encounters != 1 || strings.Join(ends, "|") != strings.Join(want, "|") {
		t.Errorf("%d encounter(s), transactions %q; want 1 and %q", encounters, ends, want)
	}
	if h.ValidationStatus != "Rejected" || strings.Join(Errors(h.Responses), "|") != "0x1: File rejected" {
		t.Errorf("header %+v", h)
	}
	stop := errors.New("stop")
	if _, err := ReadTransactions(strings.NewReader(doc), func(*Header, *Transaction, *Encounter) error { return nil },
		func(*Header, *Transaction) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("end's error: %v", err)
	}
}
