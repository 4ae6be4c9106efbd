package testsrv

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSHDPath is where Debian's openssh-server installs sshd.
const SSHDPath = "/usr/sbin/sshd"

// SFTPUser is the unprivileged user SSHD creates and logs in as when the tests run as
// root. As another user, that user itself logs in.
const SFTPUser = "calgw-sftp"

// SSHServer is a running OpenSSH sshd serving SFTP (internal-sftp) on 127.0.0.1.
type SSHServer struct {
	Host string // 127.0.0.1
	Port int
	User string

	PrivateKey     []byte     // the user's private key, OpenSSH PEM, unencrypted
	PrivateKeyFile string     // the same key in a file (mode 0600)
	Signer         ssh.Signer // the same key, parsed

	HostKey            ssh.PublicKey // the server's host key
	HostKeyFingerprint string        // its "SHA256:..." fingerprint
	KnownHostsFile     string        // a known_hosts file holding it for [127.0.0.1]:Port

	// Dir is an empty folder owned by User (absolute path on the server, which is this
	// machine): use it as the SFTP base folder. Removed when the test ends.
	Dir string

	proc *process
}

// Addr returns "127.0.0.1:port".
func (s *SSHServer) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// SSHD starts a private sshd for the test and stops it when the test ends. Only the
// generated key of User may log in, with public key authentication only.
func SSHD(t testing.TB) *SSHServer {
	t.Helper()
	requireBinary(t, "OpenSSH sshd", SSHDPath)

	s := &SSHServer{Host: "127.0.0.1"}
	uid, gid := os.Geteuid(), os.Getegid()
	if uid == 0 {
		if err := ensureUser(SFTPUser); err != nil {
			t.Fatalf("creating the SFTP test user: %v", err)
		}
		var err error
		if uid, gid, err = lookupIDs(SFTPUser); err != nil {
			t.Fatal(err)
		}
		s.User = SFTPUser
		// sshd's privilege separation needs this folder; it may be missing in containers.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		s.User = u.Username
	}
	s.Dir = ownedTempDir(t, "calgw-sftp-", uid, gid)

	conf := t.TempDir()
	hostKey := writeKey(t, filepath.Join(conf, "ssh_host_ed25519_key"))
	s.HostKey = hostKey.PublicKey()
	s.HostKeyFingerprint = ssh.FingerprintSHA256(s.HostKey)
	s.PrivateKeyFile = filepath.Join(conf, "id_ed25519")
	s.Signer = writeKey(t, s.PrivateKeyFile)
	var err error
	if s.PrivateKey, err = os.ReadFile(s.PrivateKeyFile); err != nil {
		t.Fatal(err)
	}
	// sshd reads authorized_keys as the user: it must be able to reach and read it.
	keys := ownedTempDir(t, "calgw-sshkeys-", uid, gid)
	os.Chmod(keys, 0o755)
	authorized := filepath.Join(keys, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(s.Signer.PublicKey()), 0o644); err != nil {
		t.Fatal(err)
	}

	for attempt := 1; ; attempt++ {
		s.Port = freePort(t)
		cfgFile := filepath.Join(conf, "sshd_config")
		if err := os.WriteFile(cfgFile, []byte(sshdConfig(s, conf, authorized)), 0o644); err != nil {
			t.Fatal(err)
		}
		logFile := filepath.Join(conf, "sshd.log")
		os.Remove(logFile)
		// -D: stay in the foreground, so the test owns the process; -e: log to stderr.
		s.proc = start(t, exec.Command(SSHDPath, "-D", "-e", "-f", cfgFile), logFile)
		err := s.proc.waitReady(10*time.Second, sshReady(s.Addr()))
		if err == nil {
			break
		}
		out := s.proc.output()
		if attempt < 3 && strings.Contains(out, "Address already in use") {
			continue // the free port was taken meanwhile
		}
		t.Fatalf("sshd %v\n%s", err, out)
	}

	s.KnownHostsFile = filepath.Join(conf, "known_hosts")
	line := fmt.Sprintf("[%s]:%d %s", s.Host, s.Port, ssh.MarshalAuthorizedKey(s.HostKey))
	if err := os.WriteFile(s.KnownHostsFile, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

func sshdConfig(s *SSHServer, conf, authorized string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Port %d\nListenAddress %s\n", s.Port, s.Host)
	fmt.Fprintf(&b, "HostKey %s\n", filepath.Join(conf, "ssh_host_ed25519_key"))
	fmt.Fprintf(&b, "PidFile %s\n", filepath.Join(conf, "sshd.pid"))
	fmt.Fprintf(&b, "AuthorizedKeysFile %s\n", authorized)
	fmt.Fprintf(&b, "AllowUsers %s\n", s.User)
	b.WriteString(`UsePAM no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
StrictModes no
Subsystem sftp internal-sftp
AllowTcpForwarding no
X11Forwarding no
LogLevel VERBOSE
MaxStartups 50
`)
	if sshdAtLeast(9, 8) {
		// Newer sshd penalises addresses whose logins fail; tests fail logins on purpose.
		b.WriteString("PerSourcePenalties no\n")
	}
	return b.String()
}

// sshdAtLeast reports whether the installed sshd is at least version major.minor.
func sshdAtLeast(major, minor int) bool {
	out, _ := exec.Command(SSHDPath, "-V").CombinedOutput()
	m := regexp.MustCompile(`OpenSSH_(\d+)\.(\d+)`).FindSubmatch(out)
	if m == nil {
		return false
	}
	maj, _ := strconv.Atoi(string(m[1]))
	mnr, _ := strconv.Atoi(string(m[2]))
	return maj > major || maj == major && mnr >= minor
}

// sshReady checks that the server at addr answers with an SSH banner.
func sshReady(addr string) func(context.Context) error {
	return func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 4)
		if _, err := c.Read(buf); err != nil {
			return err
		}
		if string(buf) != "SSH-" {
			return fmt.Errorf("unexpected banner %q", buf)
		}
		return nil
	}
}

// writeKey generates an ed25519 key, writes it in OpenSSH format (mode 0600) and
// returns it as a signer.
func writeKey(t testing.TB, file string) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer
}

// DropConnections kills the sshd processes serving the current connections (each
// connection has a privileged monitor and an unprivileged child holding the socket), as
// a network failure or a crash would; the server keeps accepting new connections. It
// returns how many processes it killed.
func (s *SSHServer) DropConnections(t testing.TB) int {
	t.Helper()
	master := s.proc.cmd.Process.Pid
	// Stop the descendants first, scanning again until no new one appears, so that none
	// forks a child the kill would miss; then kill them all.
	stopped := map[int]bool{}
	for {
		found := false
		for _, pid := range descendants(t, master) {
			if !stopped[pid] {
				stopped[pid] = true
				found = true
				syscall.Kill(pid, syscall.SIGSTOP)
			}
		}
		if !found {
			break
		}
	}
	killed := 0
	for pid := range stopped {
		if syscall.Kill(pid, syscall.SIGKILL) == nil {
			killed++
		}
	}
	return killed
}

// descendants returns the processes below pid, from /proc.
func descendants(t testing.TB, pid int) []int {
	t.Helper()
	parents := map[int]int{} // pid -> ppid
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// After the command name, which is in parentheses: state ppid ...
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 {
			parents[p], _ = strconv.Atoi(fields[1])
		}
	}
	var below []int
	for p := range parents {
		for q := parents[p]; q > 1; q = parents[q] {
			if q == pid {
				below = append(below, p)
				break
			}
		}
	}
	return below
}
