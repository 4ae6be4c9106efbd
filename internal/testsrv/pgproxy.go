package testsrv

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// PostgresProxy stands between a test and a PostgreSQL server and plays the server's
// restart: Starting cuts the open connections and answers new ones as a server that is
// starting up does (FATAL, SQLSTATE 57P03 "the database system is not yet accepting
// connections"); Stopped closes the listener, so connections are refused; Up lets
// connections through to the server again.
type PostgresProxy struct {
	Addr string // 127.0.0.1:port
	DSN  string // the server's DSN with the proxy's address

	t      testing.TB
	target string
	mu     sync.Mutex
	mode   string // "up", "starting", "stopped"
	ln     net.Listener
	conns  map[net.Conn]bool
}

// NewPostgresProxy starts a proxy to srv, letting connections through; it stops when the
// test ends.
func NewPostgresProxy(t testing.TB, srv *PostgresServer) *PostgresProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &PostgresProxy{Addr: ln.Addr().String(), t: t, target: fmt.Sprintf("%s:%d", srv.Host, srv.Port),
		mode: "up", conns: map[net.Conn]bool{}}
	p.DSN = strings.Replace(srv.DSN, p.target, p.Addr, 1)
	p.serve(ln)
	t.Cleanup(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.mode = "stopped"
		p.closeAll()
	})
	return p
}

func (p *PostgresProxy) serve(ln net.Listener) {
	p.ln = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
}

// closeAll closes the listener and the open connections; p.mu is held.
func (p *PostgresProxy) closeAll() {
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Starting cuts every open connection and answers new ones with 57P03.
func (p *PostgresProxy) Starting() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = "starting"
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.listen()
}

// Stopped cuts every open connection and closes the listener: connections are refused.
func (p *PostgresProxy) Stopped() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = "stopped"
	p.closeAll()
}

// Up lets connections through to the server again.
func (p *PostgresProxy) Up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = "up"
	p.listen()
}

// listen listens on the proxy's address again after Stopped; p.mu is held.
func (p *PostgresProxy) listen() {
	if p.ln != nil {
		return
	}
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		p.t.Errorf("postgres proxy: listening again on %s: %v", p.Addr, err)
		return
	}
	p.serve(ln)
}

func (p *PostgresProxy) handle(c net.Conn) {
	p.mu.Lock()
	mode := p.mode
	if mode == "up" {
		p.conns[c] = true
	}
	p.mu.Unlock()
	switch mode {
	case "starting":
		defer c.Close()
		b := pgproto3.NewBackend(c, c)
		if _, err := b.ReceiveStartupMessage(); err != nil {
			return
		}
		b.Send(&pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: "57P03",
			Message: "the database system is not yet accepting connections", Detail: "Consistent recovery state has not been yet reached."})
		b.Flush()
		return
	case "stopped":
		c.Close()
		return
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[s] = true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}
