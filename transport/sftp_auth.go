package transport

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshClientConfig builds the SSH client configuration: credentials read from their files
// or environment variables, and the host key check.
func sshClientConfig(cfg SFTPConfig, addr string) (*ssh.ClientConfig, error) {
	config := &ssh.ClientConfig{User: cfg.User, Timeout: cfg.Timeout}
	if cfg.PrivateKeyFile != "" || cfg.PrivateKeyEnv != "" {
		signer, err := loadSigner(cfg)
		if err != nil {
			return nil, err
		}
		config.Auth = append(config.Auth, ssh.PublicKeys(signer))
	}
	if cfg.PasswordEnv != "" || cfg.PasswordFile != "" {
		pw, err := secret("password", cfg.PasswordEnv, cfg.PasswordFile)
		if err != nil {
			return nil, err
		}
		config.Auth = append(config.Auth, ssh.Password(pw))
	}
	if cfg.HostKeyFingerprint != "" {
		config.HostKeyCallback = fingerprintCallback(cfg.HostKeyFingerprint)
		return config, nil
	}
	check, err := knownhosts.New(cfg.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("known_hosts_file: %w", err)
	}
	config.HostKeyCallback = knownHostsCallback(check, cfg.KnownHostsFile)
	// Ask the server for the key types known_hosts has for it; otherwise the server may
	// present another of its keys, which would be refused as unknown.
	config.HostKeyAlgorithms = knownAlgorithms(check, addr)
	return config, nil
}

// secret reads a secret from the environment variable env or the file file (one of them
// is set), without ever putting its value in an error.
func secret(what, env, file string) (string, error) {
	if env != "" {
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			return "", fmt.Errorf("%s: environment variable %s is not set", what, env)
		}
		return v, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s file: %w", what, err)
	}
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("%s file %s is empty", what, file)
	}
	return v, nil
}

func loadSigner(cfg SFTPConfig) (ssh.Signer, error) {
	pem, err := secret("private key", cfg.PrivateKeyEnv, cfg.PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	if cfg.PassphraseEnv != "" {
		pass, err := secret("passphrase", cfg.PassphraseEnv, "")
		if err != nil {
			return nil, err
		}
		signer, err := ssh.ParsePrivateKeyWithPassphrase([]byte(pem), []byte(pass))
		if err != nil {
			return nil, fmt.Errorf("private key: %w", err)
		}
		return signer, nil
	}
	signer, err := ssh.ParsePrivateKey([]byte(pem))
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, errors.New("private key is encrypted: set passphrase_env")
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	return signer, nil
}

// checkFingerprint checks the "SHA256:<base64>" form ssh-keygen -l prints.
func checkFingerprint(fp string) error {
	b64, ok := strings.CutPrefix(fp, "SHA256:")
	if !ok {
		return fmt.Errorf("%q must start with SHA256: (as printed by ssh-keygen -lf KEY)", fp)
	}
	if b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(b64, "=")); err != nil || len(b) != 32 {
		return fmt.Errorf("%q is not a SHA256 fingerprint", fp)
	}
	return nil
}

func fingerprintCallback(want string) ssh.HostKeyCallback {
	want = strings.TrimRight(want, "=")
	return func(host string, _ net.Addr, key ssh.PublicKey) error {
		if got := ssh.FingerprintSHA256(key); got != want {
			return fmt.Errorf("%w: %s presented %s key %s but host_key_fingerprint is %s",
				ErrHostKey, host, key.Type(), got, want)
		}
		return nil
	}
}

func knownHostsCallback(check ssh.HostKeyCallback, file string) ssh.HostKeyCallback {
	return func(host string, remote net.Addr, key ssh.PublicKey) error {
		err := check(host, remote, key)
		var keyErr *knownhosts.KeyError
		var revoked *knownhosts.RevokedError
		switch {
		case errors.As(err, &keyErr) && len(keyErr.Want) == 0:
			return fmt.Errorf("%w: %s is not in %s (it presented %s key %s)",
				ErrHostKey, host, file, key.Type(), ssh.FingerprintSHA256(key))
		case errors.As(err, &keyErr):
			want := make([]string, len(keyErr.Want))
			for i, k := range keyErr.Want {
				want[i] = fmt.Sprintf("%s %s (%s:%d)", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line)
			}
			return fmt.Errorf("%w: HOST KEY MISMATCH for %s: it presented %s key %s, known_hosts has %s",
				ErrHostKey, host, key.Type(), ssh.FingerprintSHA256(key), strings.Join(want, ", "))
		case errors.As(err, &revoked):
			return fmt.Errorf("%w: %s presented a revoked key: %v", ErrHostKey, host, err)
		case err != nil:
			return fmt.Errorf("%w: %v", ErrHostKey, err)
		}
		return nil
	}
}

// knownAlgorithms returns the host key algorithms for the key types known_hosts lists
// for addr, or nil (the defaults) if it lists none.
func knownAlgorithms(check ssh.HostKeyCallback, addr string) []string {
	// Checking a key known_hosts cannot hold makes it report the keys it has.
	probe, _ := ssh.NewPublicKey(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public())
	var keyErr *knownhosts.KeyError
	if !errors.As(check(addr, &net.TCPAddr{IP: net.IPv4zero}, probe), &keyErr) {
		return nil
	}
	var algos []string
	for _, k := range keyErr.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			algos = append(algos, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			algos = append(algos, t)
		}
	}
	return algos
}
