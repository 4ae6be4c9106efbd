package transport

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calaim-gateway/calaim-gateway/internal/testsrv"
)

func s3Config(srv *testsrv.S3Server) S3Config {
	return S3Config{
		Bucket:       srv.Bucket,
		Prefix:       "gw/",
		Region:       srv.Region,
		Endpoint:     srv.Endpoint,
		UsePathStyle: true,
		PartSize:     minPartSize, // many parts from small files
	}
}

func newS3(t *testing.T, srv *testsrv.S3Server, cfg S3Config, opts ...func(*config.LoadOptions) error) *S3 {
	t.Helper()
	opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")))
	tr, err := NewS3(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// storedS3 lists every object in the bucket and every unfinished multipart upload.
func storedS3(t *testing.T, tr Transport) []string {
	t.Helper()
	s := tr.(*S3)
	ctx := context.Background()
	var all []string
	pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			all = append(all, strings.TrimPrefix(aws.ToString(o.Key), s.prefix))
		}
	}
	ups, err := s.client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range ups.Uploads {
		all = append(all, "unfinished upload: "+aws.ToString(u.Key))
	}
	slices.Sort(all)
	return all
}

// TestS3 runs the shared behaviour tests against versitygw.
func TestS3(t *testing.T) {
	testBackend(t, backend{
		open: func(t *testing.T) Transport {
			srv := testsrv.S3(t)
			return newS3(t, srv, s3Config(srv))
		},
		stored: storedS3,
	})
}

// countingClient counts ListObjectsV2 requests.
type countingClient struct {
	http  aws.HTTPClient
	lists atomic.Int32
}

func (c *countingClient) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
		c.lists.Add(1)
	}
	return c.http.Do(r)
}

func TestS3ListPaginates(t *testing.T) {
	srv := testsrv.S3(t)
	tr := newS3(t, srv, s3Config(srv))
	counter := &countingClient{}
	tr.client = s3.New(tr.client.Options(), func(o *s3.Options) {
		counter.http = o.HTTPClient
		o.HTTPClient = counter
	})
	tr.pageSize = 2
	var want []string
	for _, name := range []string{"g", "c", "a", "e", "b", "f", "d"} {
		put(t, tr, "in/"+name+".csv", name)
		want = append(want, "in/"+name+".csv")
	}
	put(t, tr, "in/sub/x.csv", "not listed")
	slices.Sort(want)
	counter.lists.Store(0)
	objs, err := tr.List(context.Background(), "in")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(paths(objs), want) {
		t.Errorf("List = %q, want %q", paths(objs), want)
	}
	// 7 files and one common prefix, 2 per page: 4 requests.
	if n := counter.lists.Load(); n != 4 {
		t.Errorf("%d ListObjectsV2 requests, want 4 pages of 2", n)
	}
}

func TestS3ETagAndPrefix(t *testing.T) {
	srv := testsrv.S3(t)
	cfg := s3Config(srv)
	cfg.Prefix = "/plans/plan-a/"
	tr := newS3(t, srv, cfg)
	put(t, tr, "in/a.csv", "x")
	obj, err := tr.Stat(context.Background(), "in/a.csv")
	if err != nil {
		t.Fatal(err)
	}
	objs, _ := tr.List(context.Background(), "in")
	if obj.ETag == "" || strings.Contains(obj.ETag, `"`) || len(objs) != 1 || objs[0].ETag != obj.ETag {
		t.Errorf("ETag from Stat %q, from List %+v", obj.ETag, objs)
	}
	// The object lives under the prefix.
	if _, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{
		Bucket: &srv.Bucket, Key: aws.String("plans/plan-a/in/a.csv"),
	}); err != nil {
		t.Errorf("object not under the prefix: %v", err)
	}
}

// Objects larger than one CopyObject can take are renamed with a multipart copy; the
// limit is lowered here so that a small object goes that way.
func TestS3RenameLargeObjectCopiesInParts(t *testing.T) {
	srv := testsrv.S3(t)
	tr := newS3(t, srv, s3Config(srv))
	tr.maxCopySize, tr.copyPartSize = 6<<20, 5<<20
	const size = 12 << 20
	src := newPatternReader(size)
	if err := tr.Put(context.Background(), "in/big", src); err != nil {
		t.Fatal(err)
	}
	if err := tr.Rename(context.Background(), "in/big", "archive/big"); err != nil {
		t.Fatal(err)
	}
	r, err := tr.Open(context.Background(), "archive/big")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	if n, err := io.Copy(h, r); err != nil || n != size {
		t.Fatalf("read %d, %v", n, err)
	}
	if !bytes.Equal(h.Sum(nil), src.h.Sum(nil)) {
		t.Error("renamed object differs")
	}
	if got := storedS3(t, tr); !slices.Equal(got, []string{"archive/big"}) {
		t.Errorf("stored: %q", got)
	}
}

func TestS3CredentialsFromEnvironment(t *testing.T) {
	srv := testsrv.S3(t)
	// The standard chain, with nothing from this machine's own AWS files or metadata.
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", srv.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	cfg := Config{Type: "s3", S3: &S3Config{Bucket: srv.Bucket, Endpoint: srv.Endpoint, UsePathStyle: true}}
	tr, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	put(t, tr, "f", "via the environment")
	if got := read(t, tr, "f"); got != "via the environment" {
		t.Errorf("read %q", got)
	}

	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-value")
	_, err = New(context.Background(), cfg)
	if err == nil || !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("wrong secret: %v, want a permission error", err)
	}
	if IsTransient(err) {
		t.Error("refused credentials must not be retried")
	}
	if strings.Contains(err.Error(), "wrong-secret-value") {
		t.Error("the error shows the secret")
	}
}

func TestS3MissingBucket(t *testing.T) {
	srv := testsrv.S3(t)
	cfg := s3Config(srv)
	cfg.Bucket = "no-such-bucket"
	_, err := NewS3(context.Background(), cfg, config.WithCredentialsProvider(
		credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "s3://no-such-bucket/") {
		t.Errorf("missing bucket: %v", err)
	}
}

func TestS3ServerDownIsTransient(t *testing.T) {
	srv := testsrv.S3(t)
	// Point the client at a port where nothing listens, without retries.
	cfg := s3Config(srv)
	cfg.Endpoint = "http://127.0.0.1:1"
	_, err := NewS3(context.Background(), cfg,
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, "")),
		config.WithRetryMaxAttempts(1))
	if err == nil || !IsTransient(err) {
		t.Errorf("connection refused: %v, want a transient error", err)
	}
}

func TestS3ConfigValidate(t *testing.T) {
	cases := []struct {
		cfg  S3Config
		want string
	}{
		{S3Config{Bucket: "calgw-inbound"}, ""},
		{S3Config{Bucket: "b-1", Prefix: "a/b", Endpoint: "https://s3.example", PartSize: 64 << 20}, ""},
		{S3Config{}, "bucket is required"},
		{S3Config{Bucket: "a/b"}, "not a valid bucket name"},
		{S3Config{Bucket: "abc", Prefix: "/abs/"}, ""},
		{S3Config{Bucket: "abc", Prefix: "a/../b"}, "must not contain"},
		{S3Config{Bucket: "abc", Endpoint: "127.0.0.1:7070"}, "must be an http:// or https:// URL"},
		{S3Config{Bucket: "abc", PartSize: 1 << 20}, "part_size"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", tc.cfg, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

// Sizes around the part size take the single-request and the multipart paths.
func TestS3PutPartBoundaries(t *testing.T) {
	srv := testsrv.S3(t)
	tr := newS3(t, srv, s3Config(srv))
	for _, size := range []int64{0, 1, minPartSize - 1, minPartSize, minPartSize + 1, 2 * minPartSize} {
		src := newPatternReader(size)
		p := fmt.Sprintf("out/%d", size)
		if err := tr.Put(context.Background(), p, src); err != nil {
			t.Fatalf("Put %d bytes: %v", size, err)
		}
		r, err := tr.Open(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, r)
		r.Close()
		if err != nil || n != size || !bytes.Equal(h.Sum(nil), src.h.Sum(nil)) {
			t.Errorf("%d bytes: read back %d bytes, %v, same content %v", size, n, err, bytes.Equal(h.Sum(nil), src.h.Sum(nil)))
		}
	}
}

// lostDeleteAnswers forwards every request, but for a DELETE of a key ending
// in suffix it answers with a reset connection after the server deleted it,
// as a network that drops the response does.
type lostDeleteAnswers struct {
	http   aws.HTTPClient
	suffix string
	lost   atomic.Int32
}

func (c *lostDeleteAnswers) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(r)
	if err != nil || r.Method != http.MethodDelete || !strings.HasSuffix(r.URL.Path, c.suffix) {
		return resp, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	c.lost.Add(1)
	return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}

// TestS3RenameWhoseDeleteAnswerIsLostKeepsTheObject: the source's
// deletion after the copy happened on the server but its answer was lost.
// The object must still exist, at its new key.
func TestS3RenameWhoseDeleteAnswerIsLostKeepsTheObject(t *testing.T) {
	srv := testsrv.S3(t)
	tr := newS3(t, srv, s3Config(srv))
	put(t, tr, "in/a.csv", "content")
	lossy := &lostDeleteAnswers{suffix: "/gw/in/a.csv"}
	tr.client = s3.New(tr.client.Options(), func(o *s3.Options) {
		lossy.http = o.HTTPClient
		o.HTTPClient = lossy
	})
	err := tr.Rename(context.Background(), "in/a.csv", "processing/a.csv")
	if lossy.lost.Load() == 0 {
		t.Fatal("no DELETE answer was lost: the test did not exercise the case")
	}
	got := storedS3(t, tr)
	if !slices.Equal(got, []string{"processing/a.csv"}) {
		t.Fatalf("after Rename (err %v) the bucket holds %q, want the object at its new key", err, got)
	}
	if err != nil {
		t.Errorf("Rename = %v, want success: the object moved", err)
	}
	if c := read(t, tr, "processing/a.csv"); c != "content" {
		t.Errorf("content %q", c)
	}
}

// TestS3RenameOddKeys moves objects whose names hold characters that the
// copy's source header must encode.
func TestS3RenameOddKeys(t *testing.T) {
	srv := testsrv.S3(t)
	tr := newS3(t, srv, s3Config(srv))
	names := []string{"a+b.csv", "a b.csv", "a%20b.csv", "é#?&=.csv"}
	var want []string
	for _, n := range names {
		put(t, tr, "in/"+n, n)
		if err := tr.Rename(context.Background(), "in/"+n, "out/"+n); err != nil {
			t.Errorf("Rename %q: %v", n, err)
			continue
		}
		if got := read(t, tr, "out/"+n); got != n {
			t.Errorf("%q moved with content %q", n, got)
		}
		want = append(want, "out/"+n)
	}
	slices.Sort(want)
	if got := storedS3(t, tr); !slices.Equal(got, want) {
		t.Errorf("bucket holds %q, want %q", got, want)
	}
}
