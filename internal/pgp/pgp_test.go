package pgp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

const fixtures = "../../testdata/daemon/pgp/"

func planKeys(t *testing.T) *Keys {
	t.Helper()
	k, err := LoadPrivateKeys([]byte("calgw-test"), fixtures+"plan-test.sec.asc")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDecryptFilesGnuPGWrote(t *testing.T) {
	want, err := os.ReadFile("../../testdata/daemon/invoice-small.csv")
	if err != nil {
		t.Fatal(err)
	}
	keys := planKeys(t)
	for _, name := range []string{"invoice-small.csv.pgp", "invoice-small.csv.asc"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(fixtures + name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var got bytes.Buffer
			if err := Decrypt(&got, f, keys); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("plaintext differs from the file GnuPG encrypted:\n%s", got.Bytes())
			}
		})
	}
}

func TestPrivateKeyPassphrase(t *testing.T) {
	if _, err := LoadPrivateKeys(nil, fixtures+"plan-test.sec.asc"); err == nil || !strings.Contains(err.Error(), "passphrase") {
		t.Errorf("no passphrase: %v", err)
	}
	if _, err := LoadPrivateKeys([]byte("wrong"), fixtures+"plan-test.sec.asc"); err == nil || !strings.Contains(err.Error(), "passphrase does not unlock") {
		t.Errorf("wrong passphrase: %v", err)
	}
	if _, err := LoadPrivateKeys(nil, fixtures+"plan-test.pub.asc"); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Errorf("public key given as private: %v", err)
	}
	if _, err := LoadPrivateKeys(nil, fixtures+"missing.asc"); err == nil {
		t.Error("missing key file accepted")
	}
}

// newKey makes a key pair and writes its public half to a file.
func newKey(t *testing.T, dir, name string) (priv *Keys, pubFile string) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "test", name+"@example.org", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	pubFile = filepath.Join(dir, name+".pub.gpg")
	if err := os.WriteFile(pubFile, pub.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return &Keys{list: openpgp.EntityList{e}}, pubFile
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	dir := t.TempDir()
	dhcs, dhcsPub := newKey(t, dir, "dhcs")
	other, otherPub := newKey(t, dir, "other")
	to, err := LoadPublicKeys(dhcsPub, otherPub)
	if err != nil {
		t.Fatal(err)
	}
	// 3 MiB of random data: several packets, compression that does not help.
	plain := make([]byte, 3<<20)
	rand.Read(plain)
	for _, armored := range []bool{false, true} {
		var enc bytes.Buffer
		if err := Encrypt(&enc, bytes.NewReader(plain), to, "encounters-000000001.837", armored); err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(enc.Bytes()[:40], []byte("-----BEGIN PGP MESSAGE-----")); got != armored {
			t.Errorf("armored=%v but armor header present=%v", armored, got)
		}
		// Every recipient can read it.
		for _, k := range []*Keys{dhcs, other} {
			h := sha256.New()
			if err := Decrypt(h, bytes.NewReader(enc.Bytes()), k); err != nil {
				t.Fatal(err)
			}
			if want := sha256.Sum256(plain); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatal("round trip changed the content")
			}
		}
		// A key it was not encrypted to cannot.
		err := Decrypt(io.Discard, bytes.NewReader(enc.Bytes()), planKeys(t))
		if !errors.Is(err, ErrDecrypt) || !strings.Contains(err.Error(), "not encrypted to any configured key") {
			t.Errorf("wrong key: %v", err)
		}
	}
}

func TestDecryptRefusesDamagedAndPlainFiles(t *testing.T) {
	keys := planKeys(t)
	orig, err := os.ReadFile(fixtures + "invoice-small.csv.pgp")
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(orig)
	tampered[len(tampered)-30] ^= 0x40 // inside the encrypted data: integrity check fails
	truncated := orig[:len(orig)-20]
	for name, data := range map[string][]byte{
		"tampered":  tampered,
		"truncated": truncated,
		"not pgp":   []byte("invoice_number,invoice_date\nINV-1,2026-10-01\n"),
		"empty":     nil,
		"bad armor": []byte("-----BEGIN PGP MESSAGE-----\n\n!!!!\n-----END PGP MESSAGE-----\n"),
	} {
		t.Run(name, func(t *testing.T) {
			err := Decrypt(io.Discard, bytes.NewReader(data), keys)
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("err = %v, want ErrDecrypt", err)
			}
		})
	}
	if err := Decrypt(io.Discard, bytes.NewReader(orig), &Keys{}); !errors.Is(err, ErrDecrypt) {
		t.Errorf("no keys: %v", err)
	}
}

func TestDecryptWriteErrorIsNotAFileProblem(t *testing.T) {
	f, err := os.Open(fixtures + "invoice-small.csv.pgp")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	diskFull := errors.New("no space left on device")
	err = Decrypt(failingWriter{diskFull}, f, planKeys(t))
	if !errors.Is(err, diskFull) || errors.Is(err, ErrDecrypt) {
		t.Fatalf("err = %v, want the write error, not ErrDecrypt", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

func TestPlain(t *testing.T) {
	for in, want := range map[string]string{
		"invoices.csv.pgp": "invoices.csv", "INV.XLSX.GPG": "INV.XLSX", "a.csv.asc": "a.csv",
		"a.csv": "", ".pgp": "",
	} {
		got, ok := Plain(in)
		if (want != "") != ok || (ok && got != want) {
			t.Errorf("Plain(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
