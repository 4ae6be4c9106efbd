package daemon

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
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
	// On S3 the ledger's lease is the claim: the object stayed in place.
	if b.ClaimPath != b.Path {
		t.Errorf("S3 claim path %q, want the object's own key %q", b.ClaimPath, b.Path)
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
