package config

import (
	"fmt"
	"time"
)

// Web configures the web console (`calgw run` serves it when listen is
// set; `calgw serve` always). docs/console.md.
type Web struct {
	// Listen is the console's address, e.g. 127.0.0.1:8443; "" = no console.
	Listen string `yaml:"listen"`
	// TLSCert and TLSKey are PEM files: the console serves HTTPS with them.
	// Without them it serves plain HTTP, for loopback or behind a TLS proxy.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// SessionTTL is how long a sign-in lasts; default 8h.
	SessionTTL time.Duration `yaml:"session_ttl"`
	// UploadSource names the source (sources:) uploaded invoices are
	// dropped into; its invoice route must match web-*.csv and web-*.xlsx.
	// "" = no uploads (check only still works).
	UploadSource string `yaml:"upload_source"`
	// MaxUploadBytes bounds an uploaded file; default 10 MiB.
	MaxUploadBytes int64 `yaml:"max_upload_bytes"`
	// UploadWait is how long an upload's page waits for the daemon to
	// process the file before showing it as in progress; default 60s.
	UploadWait time.Duration `yaml:"upload_wait"`
	// LoginAttempts is how many failed sign-ins an address or a user name
	// may make per minute; default 5.
	LoginAttempts int `yaml:"login_attempts"`
	// AuditKeyEnv names the environment variable holding the audit key,
	// the HMAC-SHA-256 key the audit log keeps search terms under
	// (AuditKey); AuditKeyFile names a file holding it instead. Without
	// either, CALGW_AUDIT_KEY.
	AuditKeyEnv  string `yaml:"audit_key_env"`
	AuditKeyFile string `yaml:"audit_key_file"`
}

// Console defaults.
const (
	DefaultSessionTTL     = 8 * time.Hour
	DefaultMaxUploadBytes = 10 << 20
	DefaultUploadWait     = 60 * time.Second
	DefaultLoginAttempts  = 5
	DefaultAuditKeyEnv    = "CALGW_AUDIT_KEY"
	// MinAuditKey is the shortest audit key accepted, in bytes: a short
	// one could be guessed along with the terms it hides.
	MinAuditKey = 32
)

// WithDefaults returns w with its defaults filled in.
func (w Web) WithDefaults() Web {
	if w.SessionTTL <= 0 {
		w.SessionTTL = DefaultSessionTTL
	}
	if w.MaxUploadBytes <= 0 {
		w.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if w.UploadWait <= 0 {
		w.UploadWait = DefaultUploadWait
	}
	if w.LoginAttempts <= 0 {
		w.LoginAttempts = DefaultLoginAttempts
	}
	if w.AuditKeyEnv == "" && w.AuditKeyFile == "" {
		w.AuditKeyEnv = DefaultAuditKeyEnv
	}
	return w
}

// AuditKey reads the console's audit key from audit_key_env or
// audit_key_file (CALGW_AUDIT_KEY without either), a file's trailing line
// break left out; one shorter than MinAuditKey bytes is refused. Its
// value is never put in an error.
func (w Web) AuditKey() ([]byte, error) {
	w = w.WithDefaults()
	v, err := Secret("web audit key", w.AuditKeyEnv, w.AuditKeyFile)
	if err != nil {
		return nil, err
	}
	if len(v) < MinAuditKey {
		return nil, fmt.Errorf("web audit key: %d bytes, want at least %d (e.g. openssl rand -hex 32)", len(v), MinAuditKey)
	}
	return []byte(v), nil
}

func (c *Config) validateWeb() []string {
	var errs []string
	w := c.Web
	if (w.TLSCert == "") != (w.TLSKey == "") {
		errs = append(errs, "web: tls_cert and tls_key go together")
	}
	if w.UploadSource != "" {
		if _, ok := c.Sources[w.UploadSource]; !ok {
			errs = append(errs, fmt.Sprintf("web.upload_source %q is not in sources", w.UploadSource))
		}
	}
	if w.AuditKeyEnv != "" && w.AuditKeyFile != "" {
		errs = append(errs, "web: set only one of audit_key_env and audit_key_file")
	}
	if w.SessionTTL < 0 || w.MaxUploadBytes < 0 || w.LoginAttempts < 0 || w.UploadWait < 0 {
		errs = append(errs, "web: session_ttl, max_upload_bytes, upload_wait and login_attempts cannot be negative")
	}
	return errs
}
