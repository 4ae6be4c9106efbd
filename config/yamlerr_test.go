package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A configuration mistake names the key path and what was expected, never
// a Go type.
func TestLoadNamesTheKeyPath(t *testing.T) {
	tests := []struct {
		yaml string
		want []string
	}{
		{"encounters:\n  max_claims_per_st: lots\n",
			[]string{`encounters.max_claims_per_st (line 2): "lots" is not a whole number`}},
		{"encounters:\n  bogus: 1\n",
			[]string{"encounters.bogus (line 2): unknown key (known here: trading_partner, max_claims_per_st,"}},
		{"trading_partners:\n  dhcs-encounters:\n    interchange:\n      sender_idd: X\n",
			[]string{"trading_partners.dhcs-encounters.interchange.sender_idd (line 4): unknown key (known here: sender_qualifier, sender_id,"}},
		{"sources:\n  inbox:\n    transport: {type: local, locl: {dir: x}}\nroutes:\n  - {source: inbox, knd: invoice}\n",
			[]string{"sources.inbox.transport.locl (line 3): unknown key (known here: type, local, sftp, s3)",
				"routes[0].knd (line 5): unknown key (known here: source, pattern, kind, deliver)"}},
		{"encounters:\n  segment_newlines: maybe\n",
			[]string{`encounters.segment_newlines (line 2): "maybe" is not true or false`}},
		{"timezone: [a, b]\n", []string{"timezone (line 1): "}},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(p, []byte(tt.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if err == nil {
			t.Errorf("%q: loaded", tt.yaml)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q:\n got %v\nwant %s", tt.yaml, err, w)
			}
		}
		if strings.Contains(err.Error(), "struct {") || strings.Contains(err.Error(), "config.") {
			t.Errorf("%q: a Go type in the message: %v", tt.yaml, err)
		}
	}
}
