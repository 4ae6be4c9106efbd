package daemon

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// s3Env points the standard AWS credential chain at srv's keys, and
// nowhere else.
func s3Env(t *testing.T, srv *testsrv.S3Server) {
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_REGION", srv.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func s3Config(srv *testsrv.S3Server) string {
	tr := fmt.Sprintf("{type: s3, s3: {bucket: %s, prefix: plan/calgw, endpoint: %q, use_path_style: true}}", srv.Bucket, srv.Endpoint)
	return fmt.Sprintf(`
schedules: {poll_interval: 100ms}
retry: {initial: 100ms, max: 1s, max_attempts: 2}
shutdown_grace: 5s
sources:
  bucket: {transport: %[1]s, folder: inbound}
destinations:
  dhcs: {transport: %[1]s, folder: outbound/dhcs}
  responses: {transport: %[1]s, folder: outbound/responses}
`, tr)
}

func s3Put(t *testing.T, srv *testsrv.S3Server, key string, data []byte) {
	t.Helper()
	_, err := srv.Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: &srv.Bucket, Key: &key, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
}

func TestS3DropToDeliveredEncounters(t *testing.T) {
	srv := testsrv.S3(t)
	s3Env(t, srv)
	h := startDaemon(t, t.TempDir(), s3Config(srv))
	s3Put(t, srv, "plan/calgw/inbound/provider-a.csv", invoice("S3-1", 1, 2))
	s3Put(t, srv, "plan/calgw/inbound/provider-b.csv", invoice("S3-2", 10, 3, badRow("S3-3", 1, 30)))
	waitFor(t, 30*time.Second, "both files archived", settled(t, h.st, 2))

	// versitygw's posix backend keeps each object as a file.
	root := filepath.Join(srv.Dir, srv.Bucket, "plan", "calgw")
	n837, all := delivered837s(t, filepath.Join(root, "outbound", "dhcs"))
	if n837 != 2 || all.lines != 5 {
		t.Errorf("%d 837s with %d lines in the bucket, want 2 with 5", n837, all.lines)
	}
	exactlyOnce(t, all.ids, 5)
	b := byName(t, h.st)["provider-b.csv"]
	rows := readCSV(t, filepath.Join(root, "outbound", "responses", "provider-b."+itoa(b.ID)+".rejects.csv"))
	if len(rows) != 2 || rows[1][4] != "CODE-NOT-ALLOWED" {
		t.Errorf("rejects = %v", rows)
	}
	if got := listDir(t, filepath.Join(root, "inbound", "archive")); !slices.Equal(got, []string{"provider-a.csv", "provider-b.csv"}) {
		t.Errorf("archive in the bucket = %v", got)
	}
	if got := listDir(t, filepath.Join(root, "inbound")); len(got) != 0 {
		t.Errorf("inbound still holds %v", got)
	}
	// On S3 too the claim moves the object to processing/<id>-<name>.
	if want := "inbound/processing/" + idPrefixed(b.ID, "provider-b.csv"); b.ClaimPath != want {
		t.Errorf("S3 claim path %q, want %q", b.ClaimPath, want)
	}
}

func TestS3SameObjectContentTwiceIsProcessedOnce(t *testing.T) {
	srv := testsrv.S3(t)
	s3Env(t, srv)
	h := startDaemon(t, t.TempDir(), s3Config(srv))
	content := invoice("S3D-1", 1, 2)
	s3Put(t, srv, "plan/calgw/inbound/one.csv", content)
	waitFor(t, 30*time.Second, "first archived", settled(t, h.st, 1))
	s3Put(t, srv, "plan/calgw/inbound/two.csv", content)
	waitFor(t, 30*time.Second, "second archived", settled(t, h.st, 2))
	f := byName(t, h.st)
	if f["two.csv"].DuplicateOf != f["one.csv"].ID {
		t.Errorf("two.csv: duplicate of %d, want %d", f["two.csv"].DuplicateOf, f["one.csv"].ID)
	}
	root := filepath.Join(srv.Dir, srv.Bucket, "plan", "calgw")
	if n, _ := delivered837s(t, filepath.Join(root, "outbound", "dhcs")); n != 1 {
		t.Errorf("%d 837s, want 1", n)
	}
	if got := listDir(t, filepath.Join(root, "inbound", "archive")); !slices.Contains(got, "two.csv.duplicate.txt") {
		t.Errorf("archive = %v, want the duplicate's note", got)
	}
}

// TestS3SameKeyReplacedWhileUnfinishedIsProcessed replaces an S3 object
// (a fixed-name daily file) while the entry of its first content waits for
// a destination that is down: the second content is processed as a file of
// its own once the first entry is archived, not archived in its place.
func TestS3SameKeyReplacedWhileUnfinishedIsProcessed(t *testing.T) {
	srv := testsrv.S3(t)
	s3Env(t, srv)
	dir := t.TempDir()
	blocker := blockDHCS(t, dir)
	tr := fmt.Sprintf("{type: s3, s3: {bucket: %s, prefix: plan/calgw, endpoint: %q, use_path_style: true}}", srv.Bucket, srv.Endpoint)
	cfg := fmt.Sprintf(`
schedules: {poll_interval: 100ms}
retry: {initial: 100ms, max: 400ms, max_attempts: 2}
shutdown_grace: 5s
sources:
  bucket: {transport: %s, folder: inbound}
destinations:
  dhcs: {transport: {type: local, local: {dir: %q}}, folder: outbox/dhcs}
  responses: {transport: {type: local, local: {dir: %[2]q}}, folder: outbox/responses}
`, tr, dir)
	h := startDaemon(t, dir, cfg)
	s3Put(t, srv, "plan/calgw/inbound/daily.csv", invoice("S3DAY-1", 1, 2))
	waitFor(t, 20*time.Second, "the first daily.csv processed, its delivery retrying", func() bool {
		f := byName(t, h.st)["daily.csv"]
		return f.State == store.FileProcessed && f.Attempts >= 1
	})
	s3Put(t, srv, "plan/calgw/inbound/daily.csv", invoice("S3DAY-2", 3, 2))
	time.Sleep(500 * time.Millisecond) // several polls while it waits
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	bothArchived(t, h.st)
	if strings.Contains(h.log.String(), "source changed after it was processed") {
		t.Errorf("the replacement was taken for the processed file:\n%s", h.log.String())
	}
	n, all := delivered837s(t, blocker)
	if n != 2 {
		t.Errorf("%d 837s delivered, want 2", n)
	}
	exactlyOnce(t, all.ids, 4)
	root := filepath.Join(srv.Dir, srv.Bucket, "plan", "calgw")
	if got := listDir(t, filepath.Join(root, "inbound")); len(got) != 0 {
		t.Errorf("inbound still holds %v", got)
	}
}

// TestS3ClaimInterruptedAfterTheCopyIsNotADuplicate starts the daemon on
// the state a kill between the two halves of an S3 claim leaves (the
// object copied to processing/<id>-<name>, its source not deleted yet, the
// entry still queued): the entry is claimed from its claim path and the
// object left in the watched folder, the same one the entry noticed, is
// removed with the claim, not registered again as a duplicate of itself.
// A new upload under the same key is still a file of its own
// (TestS3SameKeyReplacedWhileUnfinishedIsProcessed).
func TestS3ClaimInterruptedAfterTheCopyIsNotADuplicate(t *testing.T) {
	srv := testsrv.S3(t)
	s3Env(t, srv)
	dir := t.TempDir()
	h, err := newHarness(t, dir, s3Config(srv))
	if err != nil {
		t.Fatal(err)
	}
	s3Put(t, srv, "plan/calgw/inbound/daily.csv", invoice("S3CL-1", 1, 2))
	tr, err := openTransport(t.Context(), h.d.bySrc["bucket"].cfg.Transport)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := tr.List(t.Context(), "inbound")
	if err != nil || len(objs) != 1 {
		t.Fatalf("list: %v %v", objs, err)
	}
	o := objs[0]
	id, added, err := h.st.RegisterFile(t.Context(), store.FileNotice{Source: "bucket", Path: o.Path, Name: o.Name(), Kind: "invoice",
		Size: o.Size, ModTime: o.ModTime, ETag: o.ETag})
	if err != nil || !added {
		t.Fatalf("register: %v %v", added, err)
	}
	src, dst := srv.Bucket+"/plan/calgw/inbound/daily.csv", "plan/calgw/inbound/processing/"+idPrefixed(id, "daily.csv")
	if _, err := srv.Client().CopyObject(t.Context(), &s3.CopyObjectInput{Bucket: &srv.Bucket, Key: &dst, CopySource: &src}); err != nil {
		t.Fatal(err)
	}
	h.run()
	waitFor(t, 20*time.Second, "the entry archived", settled(t, h.st, 1))
	time.Sleep(time.Second) // several polls
	waitFor(t, 20*time.Second, "every entry final", settled(t, h.st, 1))
	files, err := h.st.Files(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].State != store.FileArchived {
		t.Errorf("ledger holds %d entries, want daily.csv archived once: %+v", len(files), files)
	}
	root := filepath.Join(srv.Dir, srv.Bucket, "plan", "calgw")
	if got := listDir(t, filepath.Join(root, "inbound")); len(got) != 0 {
		t.Errorf("inbound still holds %v", got)
	}
	if got := listDir(t, filepath.Join(root, "outbound", "responses")); slices.ContainsFunc(got, func(n string) bool { return strings.HasSuffix(n, ".duplicate.txt") }) {
		t.Errorf("the sender was told of a duplicate: %v", got)
	}
	if n, all := delivered837s(t, filepath.Join(root, "outbound", "dhcs")); n != 1 || all.lines != 2 {
		t.Errorf("%d 837s with %d lines, want 1 with 2", n, all.lines)
	}
}
