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
}

// Console defaults.
const (
	DefaultSessionTTL     = 8 * time.Hour
	DefaultMaxUploadBytes = 10 << 20
	DefaultUploadWait     = 60 * time.Second
	DefaultLoginAttempts  = 5
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
	return w
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
	if w.SessionTTL < 0 || w.MaxUploadBytes < 0 || w.LoginAttempts < 0 || w.UploadWait < 0 {
		errs = append(errs, "web: session_ttl, max_upload_bytes, upload_wait and login_attempts cannot be negative")
	}
	return errs
}
