package config

import (
	"fmt"
	"net"
	"time"

	"github.com/calaim-gateway/calaim-gateway/transport/mllp"
)

// MLLPConfig is the `mllp:` section: an HL7 v2 listener (MLLP over TCP,
// optionally TLS) whose messages go to the store's inbox, each
// acknowledged once stored (docs/mllp.md). `calgw run` starts it when
// listen is set; `calgw mllp` reads it too (its --listen overrides listen).
type MLLPConfig struct {
	Listen        string        `yaml:"listen"`          // host:port, e.g. 0.0.0.0:2575; "" = no listener
	TLS           MLLPTLS       `yaml:"tls"`             // server certificate; client certificates checked when client_ca is set
	Allow         []MLLPAllow   `yaml:"allow"`           // senders admitted; none = everyone
	MaxFrameBytes int           `yaml:"max_frame_bytes"` // largest message taken; default 1 MiB
	IdleTimeout   time.Duration `yaml:"idle_timeout"`    // a silent connection is closed after this; default 5m
}

// MLLPTLS names PEM files: the server's certificate chain and key, and the
// CAs whose client certificates are admitted ("" = no client certificate asked).
type MLLPTLS struct {
	Cert     string `yaml:"cert"`
	Key      string `yaml:"key"`
	ClientCA string `yaml:"client_ca"`
}

// MLLPAllow admits senders: every key set must match (mllp.AllowRule).
type MLLPAllow struct {
	From               []string `yaml:"from"`                // addresses or CIDR prefixes of the connection; none = any
	SendingApplication string   `yaml:"sending_application"` // MSH-3's first component; "" = any
	SendingFacility    string   `yaml:"sending_facility"`    // MSH-4's first component; "" = any
}

// AllowList is the allow-list as the listener takes it (call after Validate).
func (m MLLPConfig) AllowList() mllp.AllowList {
	var l mllp.AllowList
	for _, a := range m.Allow {
		r := mllp.AllowRule{SendingApplication: a.SendingApplication, SendingFacility: a.SendingFacility}
		for _, f := range a.From {
			p, _ := mllp.ParsePrefix(f)
			r.From = append(r.From, p)
		}
		l = append(l, r)
	}
	return l
}

// validate checks the section (listen may be empty: no listener).
func (m MLLPConfig) validate() []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if m.Listen != "" {
		if _, _, err := net.SplitHostPort(m.Listen); err != nil {
			bad("mllp.listen %q: want host:port (e.g. 0.0.0.0:2575): %v", m.Listen, err)
		}
	}
	if (m.TLS.Cert == "") != (m.TLS.Key == "") {
		bad("mllp.tls: set both cert and key, or neither")
	}
	if m.TLS.ClientCA != "" && m.TLS.Cert == "" {
		bad("mllp.tls.client_ca needs the server's cert and key")
	}
	for i, a := range m.Allow {
		if len(a.From) == 0 && a.SendingApplication == "" && a.SendingFacility == "" {
			bad("mllp.allow[%d]: set from, sending_application or sending_facility (an empty rule admits everyone)", i)
		}
		for _, f := range a.From {
			if _, err := mllp.ParsePrefix(f); err != nil {
				bad("mllp.allow[%d].from: %v", i, err)
			}
		}
	}
	if m.MaxFrameBytes < 0 {
		bad("mllp.max_frame_bytes %d: must not be negative", m.MaxFrameBytes)
	}
	if m.IdleTimeout < 0 {
		bad("mllp.idle_timeout %v: must not be negative", m.IdleTimeout)
	}
	return errs
}
