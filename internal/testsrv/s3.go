package testsrv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// EnvVersityGW names an environment variable that may point at the versitygw binary;
// by default it is <repo>/.bin/versitygw, where scripts/install-test-deps.sh puts it.
const EnvVersityGW = "CALGW_VERSITYGW"

// S3Server is a running versitygw, an S3-compatible server, on 127.0.0.1, with its
// data in a temporary folder.
type S3Server struct {
	Endpoint  string // http://127.0.0.1:port
	Region    string
	AccessKey string
	SecretKey string
	Bucket    string // created empty for the test
	Dir       string // the posix backend's folder: Dir/Bucket/key holds each object
}

// Client returns an S3 client for the server (path-style addressing, static keys).
func (s *S3Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

func versityGWPath() string {
	if p := os.Getenv(EnvVersityGW); p != "" {
		return p
	}
	if root, err := repoRoot(); err == nil {
		return filepath.Join(root, ".bin", "versitygw")
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	return ".bin/versitygw"
}

// S3 starts a private versitygw for the test, creates a bucket, and stops the server
// when the test ends.
func S3(t testing.TB) *S3Server {
	t.Helper()
	bin := versityGWPath()
	requireBinary(t, "versitygw", bin)

	s := &S3Server{
		Region:    "us-east-1",
		AccessKey: "calgwtest" + randomHex(4),
		SecretKey: randomHex(20),
		Bucket:    "calgw-test-" + randomHex(4),
		Dir:       t.TempDir(),
	}
	dir := t.TempDir()
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		s.Endpoint = "http://" + addr
		cmd := exec.Command(bin, "--port", addr, "--region", s.Region, "--quiet", "posix", s.Dir)
		// Keys through the environment, so they do not show in the process list.
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
		logFile := filepath.Join(dir, "versitygw.log")
		os.Remove(logFile)
		proc := start(t, cmd, logFile)
		err := proc.waitReady(20*time.Second, s.createBucket)
		if err == nil {
			return s
		}
		out := proc.output()
		if attempt < 3 && strings.Contains(out, "address already in use") {
			continue
		}
		t.Fatalf("versitygw %v\n%s", err, out)
	}
}

// createBucket is the readiness check: the server answers and the bucket exists.
func (s *S3Server) createBucket(ctx context.Context) error {
	c := s.Client()
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.Bucket}); err == nil {
		return nil
	}
	_, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.Bucket})
	if err != nil {
		return fmt.Errorf("creating bucket %s: %w", s.Bucket, err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
