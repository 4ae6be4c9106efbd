// Package pgp decrypts inbound OpenPGP files and encrypts outbound ones,
// streaming: memory stays flat whatever the file size. Keys are read from
// files in armored (.asc) or binary form; a private key may be protected by a
// passphrase the caller reads from its environment or a file.
package pgp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

var timeNow = time.Now

// Extensions are the file name endings of OpenPGP files the daemon decrypts.
var Extensions = []string{".pgp", ".gpg", ".asc"}

// Plain returns name without its OpenPGP extension (case-insensitive), and
// whether it had one: "invoices.csv.pgp" → "invoices.csv", true.
func Plain(name string) (string, bool) {
	lower := strings.ToLower(name)
	for _, ext := range Extensions {
		if strings.HasSuffix(lower, ext) && len(name) > len(ext) {
			return name[:len(name)-len(ext)], true
		}
	}
	return name, false
}

// Keys is a set of OpenPGP keys: recipients' public keys for encryption, or
// this plan's private keys for decryption.
type Keys struct {
	list openpgp.EntityList
}

// Len is the number of keys (primary keys with their subkeys) in the set.
func (k *Keys) Len() int { return len(k.list) }

// ReadKeys reads keys, armored or binary.
func ReadKeys(r io.Reader) (*Keys, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(64)
	var list openpgp.EntityList
	var err error
	if bytes.Contains(head, []byte("-----BEGIN PGP")) {
		list, err = openpgp.ReadArmoredKeyRing(br)
	} else {
		list, err = openpgp.ReadKeyRing(br)
	}
	if err != nil {
		return nil, fmt.Errorf("pgp: reading keys: %w", err)
	}
	if len(list) == 0 {
		return nil, errors.New("pgp: no key found")
	}
	return &Keys{list: list}, nil
}

// LoadPublicKeys reads the public keys in files (one or more keys each).
func LoadPublicKeys(files ...string) (*Keys, error) {
	all := &Keys{}
	for _, f := range files {
		k, err := loadFile(f)
		if err != nil {
			return nil, err
		}
		for _, e := range k.list {
			if _, ok := e.EncryptionKey(timeNow()); !ok {
				return nil, fmt.Errorf("pgp: %s: key %X has no valid encryption key (expired or revoked?)", f, e.PrimaryKey.Fingerprint)
			}
		}
		all.list = append(all.list, k.list...)
	}
	return all, nil
}

// LoadPrivateKeys reads private keys from files and unlocks them with
// passphrase (nil when they are not protected).
func LoadPrivateKeys(passphrase []byte, files ...string) (*Keys, error) {
	all := &Keys{}
	for _, f := range files {
		k, err := loadFile(f)
		if err != nil {
			return nil, err
		}
		for _, e := range k.list {
			if e.PrivateKey == nil {
				return nil, fmt.Errorf("pgp: %s: key %X is a public key; decryption needs the private key", f, e.PrimaryKey.Fingerprint)
			}
			if err := unlock(e, passphrase); err != nil {
				return nil, fmt.Errorf("pgp: %s: key %X: %w", f, e.PrimaryKey.Fingerprint, err)
			}
		}
		all.list = append(all.list, k.list...)
	}
	return all, nil
}

func loadFile(name string) (*Keys, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("pgp: key file: %w", err)
	}
	defer f.Close()
	k, err := ReadKeys(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return k, nil
}

func unlock(e *openpgp.Entity, passphrase []byte) error {
	keys := []*packet.PrivateKey{e.PrivateKey}
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil {
			keys = append(keys, sk.PrivateKey)
		}
	}
	for _, k := range keys {
		if !k.Encrypted {
			continue
		}
		if len(passphrase) == 0 {
			return errors.New("the private key is protected: set passphrase_env or passphrase_file")
		}
		if err := k.Decrypt(passphrase); err != nil {
			return errors.New("the passphrase does not unlock the private key")
		}
	}
	return nil
}

// ErrDecrypt marks a file that cannot be decrypted: not OpenPGP, encrypted
// to another key, damaged or tampered with. It is a property of the file, not
// a passing failure.
var ErrDecrypt = errors.New("pgp: cannot decrypt")

// Decrypt writes the plaintext of the OpenPGP message read from src
// (armored or binary) to dst. The message's integrity is checked at its
// end, so the caller must treat dst as garbage unless Decrypt returns nil.
// A signature is not required; one that is present and made by a key in
// keys is checked. Problems of the message wrap ErrDecrypt; a failure to
// write dst does not.
func Decrypt(dst io.Writer, src io.Reader, keys *Keys) error {
	if keys == nil || len(keys.list) == 0 {
		return fmt.Errorf("%w: no private key is configured (pgp.private_key_files)", ErrDecrypt)
	}
	br := bufio.NewReaderSize(src, 64<<10)
	var r io.Reader = br
	if head, _ := br.Peek(64); bytes.Contains(head, []byte("-----BEGIN PGP")) {
		block, err := armor.Decode(br)
		if err != nil {
			return fmt.Errorf("%w: bad armor: %v", ErrDecrypt, err)
		}
		r = block.Body
	}
	md, err := openpgp.ReadMessage(r, keys.list, nil, nil)
	if err != nil {
		if errors.Is(err, pgperrors.ErrKeyIncorrect) {
			return fmt.Errorf("%w: the file is not encrypted to any configured key", ErrDecrypt)
		}
		return fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	if !md.IsEncrypted {
		return fmt.Errorf("%w: the file is signed or compressed but not encrypted", ErrDecrypt)
	}
	if _, err := io.Copy(errWriter{dst}, md.UnverifiedBody); err != nil {
		var we *writeError
		if errors.As(err, &we) {
			return we.err
		}
		return fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	if md.IsSigned && md.SignedBy != nil && md.SignatureError != nil {
		return fmt.Errorf("%w: bad signature: %v", ErrDecrypt, md.SignatureError)
	}
	return nil
}

// writeError marks a failure of the destination during Decrypt, which is
// not a problem of the file: it does not wrap ErrDecrypt.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

type errWriter struct{ w io.Writer }

func (w errWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

// Encrypt writes src encrypted to every key in to, armored or binary, to
// dst. name is recorded in the message as the file name.
func Encrypt(dst io.Writer, src io.Reader, to *Keys, name string, armored bool) error {
	if to == nil || len(to.list) == 0 {
		return errors.New("pgp: no recipient key")
	}
	out := dst
	var arm io.WriteCloser
	if armored {
		var err error
		if arm, err = armor.Encode(dst, "PGP MESSAGE", nil); err != nil {
			return fmt.Errorf("pgp: %w", err)
		}
		out = arm
	}
	cfg := &packet.Config{DefaultCompressionAlgo: packet.CompressionZLIB}
	w, err := openpgp.Encrypt(out, to.list, nil, &openpgp.FileHints{IsBinary: true, FileName: name}, cfg)
	if err != nil {
		return fmt.Errorf("pgp: encrypt: %w", err)
	}
	if _, err := io.Copy(w, src); err != nil {
		w.Close()
		return fmt.Errorf("pgp: encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("pgp: encrypt: %w", err)
	}
	if arm != nil {
		if err := arm.Close(); err != nil {
			return fmt.Errorf("pgp: encrypt: %w", err)
		}
	}
	return nil
}
