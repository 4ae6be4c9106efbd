package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/calaim-gateway/calaim-gateway/internal/pgp"
	"github.com/calaim-gateway/calaim-gateway/store"
)

const pgpFixtures = "../../testdata/daemon/pgp/"

func TestPGPInboundDecryptedAndOutboundEncrypted(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CALGW_TEST_PGP_PASSPHRASE", "calgw-test")
	// Inbound files are decrypted with the plan's key; the DHCS destination
	// gets its 837 encrypted (here to the same test key, so the test can
	// read it back), armored; responses go in clear.
	yaml := strings.Replace(localConfig(dir, `
pgp:
  private_key_files: [`+pgpFixtures+`plan-test.sec.asc]
  passphrase_env: CALGW_TEST_PGP_PASSPHRASE
`), "folder: outbox/dhcs}", "folder: outbox/dhcs, encrypt_to: ["+pgpFixtures+"plan-test.pub.asc], armor: true}", 1)
	h := startDaemon(t, dir, yaml)
	// Files GnuPG encrypted: the same invoice, binary and armored.
	for _, n := range []string{"invoice-small.csv.pgp", "invoice-small.csv.asc"} {
		b, err := os.ReadFile(pgpFixtures + n)
		if err != nil {
			t.Fatal(err)
		}
		h.write(n, b)
		waitFor(t, 20*time.Second, n+" done", settled(t, h.st, len(byName(t, h.st))+1))
	}
	files := byName(t, h.st)
	first, second := files["invoice-small.csv.pgp"], files["invoice-small.csv.asc"]
	if first.State != store.FileArchived || first.DuplicateOf != 0 {
		t.Fatalf("encrypted invoice: %s %s", first.State, first.Note)
	}
	// The content key is the plaintext's: the armored copy of the same
	// invoice is a duplicate though its bytes differ.
	if second.DuplicateOf != first.ID {
		t.Errorf("armored copy of the same invoice: duplicate of %d, want %d", second.DuplicateOf, first.ID)
	}
	keys, err := pgp.LoadPrivateKeys([]byte("calgw-test"), pgpFixtures+"plan-test.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	out := listDir(t, filepath.Join(dir, "outbox", "dhcs"))
	if len(out) != 1 || !strings.HasSuffix(out[0], ".837.asc") {
		t.Fatalf("dhcs outbox = %v, want one armored encrypted 837", out)
	}
	enc, err := os.ReadFile(filepath.Join(dir, "outbox", "dhcs", out[0]))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(enc, []byte("-----BEGIN PGP MESSAGE-----")) {
		t.Fatalf("not armored: %.40q", enc)
	}
	var plain bytes.Buffer
	if err := pgp.Decrypt(&plain, bytes.NewReader(enc), keys); err != nil {
		t.Fatal(err)
	}
	x := check837(t, out[0], plain.Bytes())
	// invoice-small.csv: two good lines for one member, one bad code.
	if x.claims != 1 || x.lines != 2 {
		t.Errorf("decrypted 837: %d claims, %d lines; want 1, 2", x.claims, x.lines)
	}
	// The response is in clear and names the file as the provider knows it.
	rejects := filepath.Join(dir, "outbox", "responses", "invoice-small."+itoa(first.ID)+".rejects.csv")
	rows := readCSV(t, rejects)
	if len(rows) != 2 || rows[1][0] != "invoice-small.csv" || rows[1][4] != "CODE-NOT-ALLOWED" {
		t.Errorf("rejects = %v", rows)
	}
	// The archived source is the encrypted file as dropped.
	if b, _ := os.ReadFile(filepath.Join(dir, "archive", "invoice-small.csv.pgp")); !bytes.Equal(b, mustRead(t, pgpFixtures+"invoice-small.csv.pgp")) {
		t.Error("archived file differs from the encrypted file dropped")
	}
}

func TestQuarantinePGPNotForThisPlan(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CALGW_TEST_PGP_PASSPHRASE", "calgw-test")
	h := startDaemon(t, dir, localConfig(dir, `
pgp:
  private_key_files: [`+pgpFixtures+`plan-test.sec.asc]
  passphrase_env: CALGW_TEST_PGP_PASSPHRASE
`))
	// Encrypted to another key: decryption fails, the file is quarantined.
	_, otherPub := newTestKey(t)
	to, err := pgp.LoadPublicKeys(otherPub)
	if err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	if err := pgp.Encrypt(&enc, bytes.NewReader(invoice("OK-1", 1, 1)), to, "x.csv", false); err != nil {
		t.Fatal(err)
	}
	h.write("elsewhere.csv.gpg", enc.Bytes())
	h.write("fine.csv", invoice("OK-2", 5, 1))
	waitFor(t, 20*time.Second, "both done", settled(t, h.st, 2))
	f := byName(t, h.st)
	if f["elsewhere.csv.gpg"].State != store.FileQuarantined || !strings.Contains(f["elsewhere.csv.gpg"].Note, "not encrypted to any configured key") {
		t.Errorf("elsewhere.csv.gpg: %s %q", f["elsewhere.csv.gpg"].State, f["elsewhere.csv.gpg"].Note)
	}
	if f["fine.csv"].State != store.FileArchived {
		t.Errorf("fine.csv: %s", f["fine.csv"].State)
	}
}

func TestPGPKeyProblemsStopTheStart(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CALGW_TEST_PGP_PASSPHRASE", "wrong")
	_, err := newHarness(t, dir, localConfig(dir, `
pgp:
  private_key_files: [`+pgpFixtures+`plan-test.sec.asc]
  passphrase_env: CALGW_TEST_PGP_PASSPHRASE
`))
	if err == nil || !strings.Contains(err.Error(), "passphrase does not unlock") {
		t.Errorf("wrong passphrase: %v", err)
	}
	yaml := strings.Replace(localConfig(dir, ""), "folder: outbox/dhcs}", "folder: outbox/dhcs, encrypt_to: [/nonexistent/dhcs.asc]}", 1)
	if _, err := newHarness(t, dir, yaml); err == nil || !strings.Contains(err.Error(), "destinations.dhcs.encrypt_to") {
		t.Errorf("missing public key: %v", err)
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newTestKey makes a key pair and writes its public key to a file.
func newTestKey(t *testing.T) (*openpgp.Entity, string) {
	t.Helper()
	e, err := openpgp.NewEntity("another plan", "test only", "edi@other.example", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other.pub.gpg")
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return e, p
}

// TestPGPHalfWrittenUploadWaitsUntilComplete plays an OpenPGP upload that
// stalls half-written for longer than two polls, then goes on writing: the
// half cannot be decrypted, but the settle check sees the claimed file
// change, so the claim is released rather than the file quarantined, and
// the complete file is processed.
func TestPGPHalfWrittenUploadWaitsUntilComplete(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("CALGW_TEST_PGP_PASSPHRASE", "calgw-test")
	h := startDaemon(t, dir, settleConfig(dir, "1s")+`
pgp:
  private_key_files: [`+pgpFixtures+`plan-test.sec.asc]
  passphrase_env: CALGW_TEST_PGP_PASSPHRASE
`)
	to, err := pgp.LoadPublicKeys(pgpFixtures + "plan-test.pub.asc")
	if err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	if err := pgp.Encrypt(&enc, bytes.NewReader(invoice("PHW-1", 1, 6)), to, "upload.csv", false); err != nil {
		t.Fatal(err)
	}
	completesHalfWritten(t, h, dir, "upload.csv.pgp", enc.Bytes())
}
