package daemon

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/transport"
)

// sftpTransport is the YAML of an SFTP transport to srv.
func sftpTransport(srv *testsrv.SSHServer, knownHosts string) string {
	return fmt.Sprintf("{type: sftp, sftp: {host: %s, port: %d, user: %s, private_key_file: %q, known_hosts_file: %q, base_dir: %q, timeout: 5s}}",
		srv.Host, srv.Port, srv.User, srv.PrivateKeyFile, knownHosts, srv.Dir)
}

func sftpConfig(srv *testsrv.SSHServer, knownHosts string) string {
	tr := sftpTransport(srv, knownHosts)
	return fmt.Sprintf(`
schedules: {poll_interval: 100ms}
retry: {initial: 100ms, max: 1s, max_attempts: 2}
shutdown_grace: 5s
sources:
  partners: {transport: %[1]s, folder: inbound}
destinations:
  dhcs: {transport: %[1]s, folder: outbound/dhcs}
  responses: {transport: %[1]s, folder: outbound/responses}
`, tr)
}

// sftpUpload writes a file over SFTP as the provider's user would.
func sftpUpload(t *testing.T, srv *testsrv.SSHServer, name string, data []byte) {
	t.Helper()
	c, err := ssh.Dial("tcp", srv.Addr(), &ssh.ClientConfig{User: srv.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(srv.Signer)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fc, err := sftp.NewClient(c)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	p := srv.Dir + "/" + name
	if err := fc.MkdirAll(filepath.Dir(p)); err != nil {
		t.Fatal(err)
	}
	f, err := fc.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestSFTPDropToDeliveredEncounters(t *testing.T) {
	srv := testsrv.SSHD(t)
	h := startDaemon(t, t.TempDir(), sftpConfig(srv, srv.KnownHostsFile))
	sftpUpload(t, srv, "inbound/provider-a.csv", invoice("SF-1", 1, 3))
	sftpUpload(t, srv, "inbound/provider-b.csv", invoice("SF-2", 10, 2, badRow("SF-3", 1, 20)))
	waitFor(t, 30*time.Second, "both files archived", settled(t, h.st, 2))

	files := byName(t, h.st)
	n837, all := delivered837s(t, filepath.Join(srv.Dir, "outbound", "dhcs"))
	if n837 != 2 || all.lines != 5 {
		t.Errorf("%d 837s with %d lines on the SFTP server, want 2 with 5", n837, all.lines)
	}
	exactlyOnce(t, all.ids, 5)
	resp := listDir(t, filepath.Join(srv.Dir, "outbound", "responses"))
	b := files["provider-b.csv"]
	if !slices.Contains(resp, "provider-b."+itoa(b.ID)+".rejects.csv") || len(resp) != 4 {
		t.Errorf("responses = %v", resp)
	}
	rows := readCSV(t, filepath.Join(srv.Dir, "outbound", "responses", "provider-b."+itoa(b.ID)+".rejects.csv"))
	if len(rows) != 2 || rows[1][4] != "CODE-NOT-ALLOWED" {
		t.Errorf("rejects = %v", rows)
	}
	if got := listDir(t, filepath.Join(srv.Dir, "inbound", "archive")); !slices.Equal(got, []string{"provider-a.csv", "provider-b.csv"}) {
		t.Errorf("archive on the server = %v", got)
	}
	for _, sub := range []string{"inbound", "inbound/processing"} {
		if got := listDir(t, filepath.Join(srv.Dir, sub)); len(got) != 0 {
			t.Errorf("%s still holds %v", sub, got)
		}
	}
	// The outputs were written over SFTP, as the SFTP user, not as the
	// test's own user.
	if os.Geteuid() == 0 {
		info, err := os.Stat(filepath.Join(srv.Dir, "outbound", "responses", "provider-b."+itoa(b.ID)+".rejects.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if info.Sys().(*syscall.Stat_t).Uid == 0 {
			t.Error("the output is owned by root: not delivered over SFTP")
		}
	}
}

func TestSFTPHostKeyMismatchRefusedAtStart(t *testing.T) {
	srv := testsrv.SSHD(t)
	// known_hosts pins another key for this server.
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	kh := filepath.Join(t.TempDir(), "known_hosts")
	line := fmt.Sprintf("[%s]:%d %s", srv.Host, srv.Port, ssh.MarshalAuthorizedKey(other))
	if err := os.WriteFile(kh, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = newHarness(t, t.TempDir(), sftpConfig(srv, kh))
	if !errors.Is(err, transport.ErrHostKey) {
		t.Fatalf("New: %v, want a host key error", err)
	}
	for _, want := range []string{"source partners", "HOST KEY MISMATCH", ssh.FingerprintSHA256(srv.HostKey)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestSFTPReconnectsAfterTheConnectionDrops(t *testing.T) {
	srv := testsrv.SSHD(t)
	h := startDaemon(t, t.TempDir(), sftpConfig(srv, srv.KnownHostsFile))
	sftpUpload(t, srv, "inbound/first.csv", invoice("RC-1", 1, 1))
	waitFor(t, 30*time.Second, "first file archived", settled(t, h.st, 1))
	if n := srv.DropConnections(t); n == 0 {
		t.Fatal("no connection to drop")
	}
	sftpUpload(t, srv, "inbound/second.csv", invoice("RC-2", 5, 1))
	waitFor(t, 30*time.Second, "second file archived", settled(t, h.st, 2))
	if f := byName(t, h.st)["second.csv"]; f.State != store.FileArchived {
		t.Errorf("second.csv: %s", f.State)
	}
}

func TestSFTPUnreachableSourceDoesNotStopOthers(t *testing.T) {
	srv := testsrv.SSHD(t)
	// A port nobody listens on: the source is down, not misconfigured.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	dead := strings.Replace(sftpTransport(srv, srv.KnownHostsFile), fmt.Sprintf("port: %d", srv.Port), fmt.Sprintf("port: %d", port), 1)
	yaml := strings.Replace(localConfig(dir, ""), "    quarantine: quarantine\n", "    quarantine: quarantine\n  down: {transport: "+dead+", folder: inbound}\n", 1)
	h := startDaemon(t, dir, yaml)
	h.write("local.csv", invoice("UP-1", 1, 1))
	waitFor(t, 20*time.Second, "the local file archived", settled(t, h.st, 1))
	waitFor(t, 20*time.Second, "retries of the down source", func() bool {
		return strings.Count(h.log.String(), `msg="source unreachable" source=down`) >= 2
	})
	if !strings.Contains(h.log.String(), "not reachable at start; will keep trying") {
		t.Error("the unreachable source at start was not reported")
	}
}
