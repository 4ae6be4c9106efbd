package transport

import (
	"context"
	"errors"
	"fmt"
)

// Config selects and configures one transport. In YAML:
//
//	type: sftp            # local | sftp | s3
//	sftp:
//	  host: sftp.plan.example
//	  user: calgw
//	  private_key_file: /etc/calgw/id_ed25519
//	  known_hosts_file: /etc/calgw/known_hosts
//	  base_dir: /outbound
//
// Only the section named by type may be set.
type Config struct {
	Type  string       `yaml:"type"`
	Local *LocalConfig `yaml:"local,omitempty"`
	SFTP  *SFTPConfig  `yaml:"sftp,omitempty"`
	S3    *S3Config    `yaml:"s3,omitempty"`
}

// Validate checks that type names a known transport, that its section is there and
// valid, and that no other section is set.
func (c *Config) Validate() error {
	sections := map[string]bool{"local": c.Local != nil, "sftp": c.SFTP != nil, "s3": c.S3 != nil}
	var errs []error
	for _, name := range []string{"local", "sftp", "s3"} {
		if sections[name] && name != c.Type {
			errs = append(errs, fmt.Errorf("transport: section %q is set but type is %q", name, c.Type))
		}
	}
	switch c.Type {
	case "local", "sftp", "s3":
		if !sections[c.Type] {
			errs = append(errs, fmt.Errorf("transport: type is %q but the %q section is missing", c.Type, c.Type))
		}
	case "":
		errs = append(errs, errors.New("transport: type is required (local, sftp or s3)"))
	default:
		errs = append(errs, fmt.Errorf("transport: unknown type %q (want local, sftp or s3)", c.Type))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	switch c.Type {
	case "local":
		return c.Local.Validate()
	case "sftp":
		return c.SFTP.Validate()
	default:
		return c.S3.Validate()
	}
}

// New validates cfg and opens the transport it describes. Remote transports connect
// (SFTP) or check the bucket (S3) before returning.
func New(ctx context.Context, cfg Config) (Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var t Transport
	var err error
	switch cfg.Type {
	case "local":
		t, err = NewLocal(*cfg.Local)
	case "sftp":
		t, err = NewSFTP(ctx, *cfg.SFTP)
	default:
		t, err = NewS3(ctx, *cfg.S3)
	}
	if err != nil {
		return nil, err // not a Transport holding a nil pointer
	}
	return t, nil
}
