package testsrv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// EnvPGBin names an environment variable that may point at PostgreSQL's bin folder; by
// default the newest /usr/lib/postgresql/*/bin (Debian's postgresql package).
const EnvPGBin = "CALGW_PG_BIN"

// PostgresUser is the unprivileged user the server runs as when the tests run as root
// (PostgreSQL refuses to run as root).
const PostgresUser = "calgw-pg"

// PostgresServer is a running private PostgreSQL cluster on 127.0.0.1, with trust
// authentication and fsync off: for tests only.
type PostgresServer struct {
	Host     string // 127.0.0.1
	Port     int
	User     string // superuser, "postgres"
	Database string // an empty database made for the test
	DSN      string // postgres://postgres@127.0.0.1:port/db?sslmode=disable
	Dir      string // the cluster's folder
}

func pgBinDir() string {
	if p := os.Getenv(EnvPGBin); p != "" {
		return p
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	if len(dirs) == 0 {
		return "/usr/lib/postgresql/VERSION/bin"
	}
	return dirs[len(dirs)-1]
}

// Postgres initialises and starts a private PostgreSQL cluster for the test, creates a
// database, and stops the server when the test ends. It takes a few seconds.
func Postgres(t TB) *PostgresServer {
	t.Helper()
	return postgresIn(t, "")
}

// PostgresIn is Postgres with the cluster kept in dir instead of a temporary folder:
// made there when dir holds none, else the cluster and its database are started
// again as they were. The server stops when t ends; dir stays. For tools that reuse
// a large database between runs (the web console's load test).
func PostgresIn(t TB, dir string) *PostgresServer {
	t.Helper()
	return postgresIn(t, dir)
}

func postgresIn(t TB, keep string) *PostgresServer {
	t.Helper()
	bin := pgBinDir()
	requireBinary(t, "PostgreSQL initdb", filepath.Join(bin, "initdb"))

	uid, gid := os.Geteuid(), os.Getegid()
	var cred *syscall.Credential
	if uid == 0 {
		if err := ensureUser(PostgresUser); err != nil {
			t.Fatalf("creating the PostgreSQL test user: %v", err)
		}
		var err error
		if uid, gid, err = lookupIDs(PostgresUser); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	run := func(name string, args ...string) *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		cmd.Dir = "/"
		return cmd
	}
	s := &PostgresServer{Host: "127.0.0.1", User: "postgres", Database: "calgw_test"}
	if keep == "" {
		s.Dir = ownedTempDir(t, "calgw-pg-", uid, gid)
	} else {
		s.Dir = keep
		if err := os.MkdirAll(keep, 0o750); err != nil {
			t.Fatal(err)
		}
		// The server's user must be able to reach the folder: its parent
		// (the caller's output folder, e.g. bench-out) gets search
		// permission for others, not read.
		if fi, err := os.Stat(filepath.Dir(keep)); err == nil && fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(filepath.Dir(keep), fi.Mode().Perm()|0o001); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chown(keep, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(s.Dir, "data")
	existing := false
	if _, err := os.Stat(filepath.Join(data, "PG_VERSION")); err == nil && keep != "" {
		existing = true
	} else if out, err := run("initdb", "-D", data, "-U", s.User, "--auth=trust", "-E", "UTF8",
		"--no-locale", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}

	for attempt := 1; ; attempt++ {
		s.Port = freePort(t)
		logFile := filepath.Join(s.Dir, "postgres.log")
		os.Remove(logFile)
		proc := start(t, run("postgres", "-D", data, "-p", strconv.Itoa(s.Port),
			"-c", "listen_addresses="+s.Host, "-c", "unix_socket_directories="+s.Dir,
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"), logFile)
		proc.stopSignal = syscall.SIGINT // fast shutdown: do not wait for clients
		err := proc.waitReady(30*time.Second, func(ctx context.Context) error {
			out, err := exec.CommandContext(ctx, filepath.Join(bin, "pg_isready"),
				"-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", s.User).CombinedOutput()
			if err != nil {
				return fmt.Errorf("pg_isready: %v: %s", err, bytes.TrimSpace(out))
			}
			return nil
		})
		if err == nil {
			break
		}
		out := proc.output()
		if attempt < 3 && strings.Contains(out, "already in use") {
			continue
		}
		t.Fatalf("postgres %v\n%s", err, out)
	}
	if !existing {
		if out, err := run("createdb", "-h", s.Host, "-p", strconv.Itoa(s.Port), "-U", s.User,
			s.Database).CombinedOutput(); err != nil {
			t.Fatalf("createdb: %v\n%s", err, out)
		}
	}
	s.DSN = fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", s.User, s.Host, s.Port, s.Database)
	return s
}
