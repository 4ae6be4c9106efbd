package mllp

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"
)

// Client is one MLLP connection to a server. It is not safe for use by
// several goroutines at once.
type Client struct {
	c   net.Conn
	r   *bufio.Reader
	out []byte
	// MaxACKBytes bounds an ACK frame read (default 64 KiB).
	MaxACKBytes int
}

// Dial connects to addr, over TLS when cfg is not nil.
func Dial(ctx context.Context, addr string, cfg *tls.Config) (*Client, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mllp: dial %s: %w", addr, err)
	}
	if cfg != nil {
		tc := tls.Client(c, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			c.Close()
			return nil, fmt.Errorf("mllp: TLS with %s: %w", addr, err)
		}
		c = tc
	}
	return &Client{c: c, r: bufio.NewReaderSize(c, 16<<10), MaxACKBytes: 64 << 10}, nil
}

// Send sends msg and returns its ACK.
func (c *Client) Send(ctx context.Context, msg []byte) ([]byte, error) {
	if err := c.Write(ctx, msg); err != nil {
		return nil, err
	}
	return c.ReadACK(ctx)
}

// Write sends msg without waiting for its ACK (read ACKs with ReadACK, in order).
func (c *Client) Write(ctx context.Context, msg []byte) error {
	c.deadline(ctx)
	c.out = AppendFrame(c.out[:0], msg)
	if _, err := c.c.Write(c.out); err != nil {
		return fmt.Errorf("mllp: send: %w", err)
	}
	return nil
}

// ReadACK reads the next ACK frame.
func (c *Client) ReadACK(ctx context.Context) ([]byte, error) {
	c.deadline(ctx)
	ack, err := ReadFrame(c.r, c.MaxACKBytes)
	if err != nil {
		return nil, fmt.Errorf("mllp: read ACK: %w", err)
	}
	return ack, nil
}

func (c *Client) deadline(ctx context.Context) {
	d, ok := ctx.Deadline()
	if !ok {
		d = time.Time{}
	}
	c.c.SetDeadline(d)
}

// Conn is the underlying connection.
func (c *Client) Conn() net.Conn { return c.c }

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

// ACKCode returns an ACK's MSA-1 (AA, AE, AR), MSA-2 (the control ID
// acknowledged) and MSA-3 (the reason), as written; "" when it has no MSA.
func ACKCode(ack []byte) (code, controlID, text string) {
	if len(ack) < 4 {
		return "", "", ""
	}
	fs := ack[3]
	for _, seg := range splitSegments(ack) {
		if len(seg) > 4 && string(seg[:3]) == "MSA" && seg[3] == fs {
			f := splitFields(seg[4:], fs)
			get := func(i int) string {
				if i < len(f) {
					return f[i]
				}
				return ""
			}
			return get(0), get(1), get(2)
		}
	}
	return "", "", ""
}

func splitSegments(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i, c := range b {
		if c == '\r' || c == '\n' {
			if i > start {
				out = append(out, b[start:i])
			}
			start = i + 1
		}
	}
	if start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

func splitFields(b []byte, fs byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == fs {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return append(out, string(b[start:]))
}
