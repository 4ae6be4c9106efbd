package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestMLLPConfig(t *testing.T) {
	c, err := Load(write(t, `mllp:
  listen: 127.0.0.1:2575
  tls: {cert: /etc/calgw/mllp.pem, key: /etc/calgw/mllp-key.pem, client_ca: /etc/calgw/hospitals-ca.pem}
  allow:
    - {from: [10.20.0.0/16, 192.0.2.7], sending_application: EPICADT, sending_facility: GOODHOSP}
    - {sending_application: CERNER}
  max_frame_bytes: 2097152
  idle_timeout: 2m
`))
	if err != nil {
		t.Fatal(err)
	}
	m := c.MLLP
	if m.Listen != "127.0.0.1:2575" || m.TLS.ClientCA == "" || m.MaxFrameBytes != 2<<20 || m.IdleTimeout != 2*time.Minute {
		t.Errorf("%+v", m)
	}
	l := m.AllowList()
	if len(l) != 2 || l[0].From[1] != netip.MustParsePrefix("192.0.2.7/32") || l[1].SendingApplication != "CERNER" || len(l[1].From) != 0 {
		t.Errorf("allow-list %+v", l)
	}
	for name, tc := range map[string]struct{ yaml, want string }{
		"listen":         {"mllp: {listen: '2575'}", `mllp.listen "2575"`},
		"cert alone":     {"mllp: {tls: {cert: a.pem}}", "mllp.tls: set both cert and key"},
		"client CA only": {"mllp: {tls: {client_ca: ca.pem}}", "mllp.tls.client_ca needs"},
		"bad CIDR":       {"mllp: {allow: [{from: [10.0.0/8]}]}", "mllp.allow[0].from"},
		"empty rule":     {"mllp: {allow: [{}]}", "mllp.allow[0]: set from"},
		"negative limit": {"mllp: {max_frame_bytes: -1}", "mllp.max_frame_bytes"},
		"unknown key":    {"mllp: {port: 2575}", "mllp.port (line 1): unknown key"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Load(write(t, tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}
