package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3Config configures a bucket on AWS S3 or an S3-compatible server. Credentials come
// from the standard AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared
// config and credentials files and profile, web identity, ECS and EC2 roles), never from
// this configuration.
type S3Config struct {
	Bucket       string `yaml:"bucket"`
	Prefix       string `yaml:"prefix"`         // key prefix all paths are under, e.g. "calgw/inbound"; outer slashes ignored
	Region       string `yaml:"region"`         // default from the AWS chain (AWS_REGION, profile)
	Endpoint     string `yaml:"endpoint"`       // e.g. http://127.0.0.1:7070 for an S3-compatible server
	UsePathStyle bool   `yaml:"use_path_style"` // bucket in the path, not the host name
	Profile      string `yaml:"profile"`        // shared config profile; default AWS_PROFILE or "default"
	PartSize     int64  `yaml:"part_size"`      // multipart part size in bytes; default 16 MiB, at least 5 MiB
}

const (
	minPartSize     = 5 << 20
	maxPartSize     = 5 << 30
	defaultPartSize = 16 << 20
	maxParts        = 10000
	// maxCopySize is the largest object one CopyObject may copy; larger ones are copied
	// in parts of copyPartSize.
	maxCopySize  = 5 << 30
	copyPartSize = 1 << 30
)

// Validate checks the configuration, naming every problem.
func (c *S3Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf("s3: "+format, args...)) }
	switch {
	case c.Bucket == "":
		add("bucket is required")
	case len(c.Bucket) < 3 || len(c.Bucket) > 63 || strings.ContainsAny(c.Bucket, "/ \\:"):
		add("bucket %q is not a valid bucket name", c.Bucket)
	}
	if slices.Contains(strings.Split(c.Prefix, "/"), "..") {
		add("prefix %q must not contain \"..\"", c.Prefix)
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("endpoint %q must be an http:// or https:// URL", c.Endpoint)
		}
	}
	if c.PartSize != 0 && (c.PartSize < minPartSize || c.PartSize > maxPartSize) {
		add("part_size %d must be between 5 MiB (%d) and 5 GiB (%d)", c.PartSize, minPartSize, maxPartSize)
	}
	return errors.Join(errs...)
}

// S3 is a Transport over an S3 bucket. Objects are streamed: Put sends a single
// PutObject when the content fits in one part and a multipart upload otherwise, holding
// one part in memory.
//
// S3 has no rename: Rename copies then deletes. It refuses to replace an existing
// object (a HEAD check, and If-None-Match on the copy for servers that honour it), but
// two processes renaming the same object at once may both succeed: claim files through
// a shared lock when several gateways read one bucket. A Rename whose deletion of the
// source fails leaves the object at both keys unless the source is known to exist, in
// which case the copy is removed; it never removes the last copy.
type S3 struct {
	client   *s3.Client
	bucket   string
	prefix   string // "" or ends with "/"
	partSize int64
	pageSize int32 // objects per List request; 0 means the server's default (1000)

	// copy limits; variables so tests can exercise multipart copy with small objects.
	maxCopySize, copyPartSize int64
}

// NewS3 returns a Transport for the bucket. opts adjust how the AWS configuration is
// loaded (for example config.WithCredentialsProvider in tests). It lists the prefix once,
// so that configuration mistakes (endpoint, credentials, bucket) show at startup.
func NewS3(ctx context.Context, cfg S3Config, opts ...func(*config.LoadOptions) error) (*S3, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Region != "" {
		opts = append([]func(*config.LoadOptions) error{config.WithRegion(cfg.Region)}, opts...)
	}
	if cfg.Profile != "" {
		opts = append([]func(*config.LoadOptions) error{config.WithSharedConfigProfile(cfg.Profile)}, opts...)
	}
	t := &S3{
		bucket:       cfg.Bucket,
		prefix:       strings.Trim(path.Clean("/"+cfg.Prefix), "/"),
		partSize:     cfg.PartSize,
		maxCopySize:  maxCopySize,
		copyPartSize: copyPartSize,
	}
	if t.prefix != "" {
		t.prefix += "/"
	}
	if t.partSize == 0 {
		t.partSize = defaultPartSize
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, t.fail("connect", ".", "", fmt.Errorf("loading AWS configuration: %w", err))
	}
	if awsCfg.Region == "" {
		return nil, t.fail("connect", ".", "", errors.New("no region: set region or AWS_REGION"))
	}
	t.client = s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.UsePathStyle
		// Objects put in parts have no whole-object checksum to validate; that is
		// expected, not worth a warning on every read.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	// Listing one key under the prefix needs no more permission than the daemon needs
	// anyway (HeadBucket would need it on the whole bucket).
	if _, err := t.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket: &t.bucket, Prefix: &t.prefix, MaxKeys: aws.Int32(1),
	}); err != nil {
		return nil, t.fail("connect", ".", t.prefix, s3Error(err))
	}
	return t, nil
}

func (t *S3) fail(op, p, key string, err error) error {
	return &Error{"s3", op, "s3://" + t.bucket + "/" + key, p, err}
}

// key maps a clean relative path to an object key.
func (t *S3) key(rel string) string {
	if rel == "." {
		return t.prefix
	}
	return t.prefix + rel
}

func (t *S3) resolve(op, p string) (rel, key string, err error) {
	rel, err = cleanPath(p)
	if err != nil {
		return "", "", t.fail(op, p, t.prefix+p, err)
	}
	return rel, t.key(rel), nil
}

// s3Error maps "no such key/bucket" answers to fs.ErrNotExist and access denied to
// fs.ErrPermission, keeping the original error in the chain.
func s3Error(err error) error {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case 404:
			return fmt.Errorf("%w: %w", fs.ErrNotExist, err)
		case 403:
			return fmt.Errorf("%w: %w", fs.ErrPermission, err)
		}
	}
	return err
}

func (t *S3) List(ctx context.Context, dir string) ([]Object, error) {
	rel, key, err := t.resolve("list", dir)
	if err != nil {
		return nil, err
	}
	if rel != "." {
		key += "/"
	}
	var objs []Object
	pages := s3.NewListObjectsV2Paginator(t.client, &s3.ListObjectsV2Input{
		Bucket:    &t.bucket,
		Prefix:    &key,
		Delimiter: aws.String("/"),
	}, func(o *s3.ListObjectsV2PaginatorOptions) { o.Limit = t.pageSize })
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, t.fail("list", dir, key, s3Error(err))
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), key)
			if name == "" || strings.Contains(name, "/") {
				continue // a folder marker
			}
			objs = append(objs, Object{
				Path:    path.Join(rel, name),
				Size:    aws.ToInt64(o.Size),
				ModTime: aws.ToTime(o.LastModified),
				ETag:    strings.Trim(aws.ToString(o.ETag), `"`),
			})
		}
	}
	sortObjects(objs)
	return objs, nil
}

func (t *S3) Stat(ctx context.Context, p string) (Object, error) {
	rel, key, err := t.resolve("stat", p)
	if err != nil {
		return Object{}, err
	}
	if rel == "." {
		return Object{}, t.fail("stat", p, key, errNotFile)
	}
	out, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &key})
	if err != nil {
		return Object{}, t.fail("stat", p, key, s3Error(err))
	}
	return Object{
		Path:    rel,
		Size:    aws.ToInt64(out.ContentLength),
		ModTime: aws.ToTime(out.LastModified),
		ETag:    strings.Trim(aws.ToString(out.ETag), `"`),
	}, nil
}

func (t *S3) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	rel, key, err := t.resolve("open", p)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return nil, t.fail("open", p, key, errNotFile)
	}
	out, err := t.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &t.bucket, Key: &key})
	if err != nil {
		return nil, t.fail("open", p, key, s3Error(err))
	}
	return &s3Reader{ctx: ctx, body: out.Body, t: t, p: p, key: key}, nil
}

// s3Reader reads a GetObject body, wrapping its errors; a read after ctx is done
// fails with ctx's error, as local and SFTP reads do, even when the body's bytes
// have already arrived.
type s3Reader struct {
	ctx    context.Context
	body   io.ReadCloser
	t      *S3
	p, key string
}

func (r *s3Reader) Read(b []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, r.t.fail("read", r.p, r.key, err)
	}
	n, err := r.body.Read(b)
	if err != nil && err != io.EOF {
		err = r.t.fail("read", r.p, r.key, err)
	}
	return n, err
}

func (r *s3Reader) Close() error { return r.body.Close() }

func (t *S3) Put(ctx context.Context, p string, r io.Reader) error {
	rel, key, err := t.resolve("put", p)
	if err != nil {
		return err
	}
	if rel == "." {
		return t.fail("put", p, key, errNotFile)
	}
	if err := t.put(ctx, key, r); err != nil {
		return t.fail("put", p, key, s3Error(err))
	}
	return nil
}

func (t *S3) put(ctx context.Context, key string, r io.Reader) error {
	r = ctxReader{ctx, r}
	buf, err := fill(r, nil, int(t.partSize))
	if err == io.EOF {
		// It fits in one part: one PutObject, visible only once complete.
		_, err := t.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        &t.bucket,
			Key:           &key,
			Body:          bytes.NewReader(buf),
			ContentLength: aws.Int64(int64(len(buf))),
		})
		return err
	}
	if err != nil {
		return err
	}
	return t.multipart(ctx, key, r, buf)
}

// fill reads r into buf until it holds limit bytes (and returns nil) or r ends (and
// returns io.EOF). It grows buf as needed, so that a small file needs a small buffer.
func fill(r io.Reader, buf []byte, limit int) ([]byte, error) {
	buf = buf[:0]
	for len(buf) < limit {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(max(2*cap(buf), 64<<10), limit))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// multipart uploads buf (a full first part) and the rest of r, one part at a time. The
// object appears only when CompleteMultipartUpload succeeds; on any failure the upload
// is aborted.
func (t *S3) multipart(ctx context.Context, key string, r io.Reader, buf []byte) (err error) {
	up, err := t.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            &t.bucket,
		Key:               &key,
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			t.abort(ctx, key, up.UploadId)
		}
	}()
	var parts []types.CompletedPart
	for num := int32(1); len(buf) > 0; num++ {
		if num > maxParts {
			return fmt.Errorf("more than %d parts of %d bytes: raise part_size", maxParts, t.partSize)
		}
		out, err := t.client.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:            &t.bucket,
			Key:               &key,
			UploadId:          up.UploadId,
			PartNumber:        aws.Int32(num),
			Body:              bytes.NewReader(buf),
			ContentLength:     aws.Int64(int64(len(buf))),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
		if buf, err = fill(r, buf, int(t.partSize)); err != nil && err != io.EOF {
			return err
		}
	}
	_, err = t.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &t.bucket,
		Key:             &key,
		UploadId:        up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

// abort abandons a multipart upload so its parts do not linger, even after ctx is done.
func (t *S3) abort(ctx context.Context, key string, uploadID *string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	t.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &t.bucket, Key: &key, UploadId: uploadID})
}

func (t *S3) Rename(ctx context.Context, from, to string) error {
	relFrom, keyFrom, err := t.resolve("rename", from)
	if err != nil {
		return err
	}
	relTo, keyTo, err := t.resolve("rename", to)
	if err != nil {
		return err
	}
	loc := keyFrom + " -> s3://" + t.bucket + "/" + keyTo
	if relFrom == "." || relTo == "." {
		return t.fail("rename", from, loc, errNotFile)
	}
	if err := t.rename(ctx, keyFrom, keyTo); err != nil {
		return t.fail("rename", from, loc, s3Error(err))
	}
	return nil
}

func (t *S3) rename(ctx context.Context, from, to string) error {
	src, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &from})
	if err != nil {
		return err
	}
	_, err = t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &to})
	if err == nil {
		return fmt.Errorf("destination exists: %w", fs.ErrExist)
	}
	if !errors.Is(s3Error(err), fs.ErrNotExist) {
		return err
	}
	if aws.ToInt64(src.ContentLength) > t.maxCopySize {
		err = t.copyParts(ctx, from, to, aws.ToInt64(src.ContentLength), aws.ToString(src.ETag))
	} else {
		_, err = t.client.CopyObject(ctx, &s3.CopyObjectInput{
			Bucket:            &t.bucket,
			Key:               &to,
			CopySource:        aws.String(copySource(t.bucket, from)),
			CopySourceIfMatch: src.ETag,
			IfNoneMatch:       aws.String("*"),
		})
	}
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == 412 {
			return fmt.Errorf("source or destination changed during the copy: %w: %w", fs.ErrExist, err)
		}
		return err
	}
	if _, err := t.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &t.bucket, Key: &from}); err != nil {
		// The deletion may have happened with its answer lost: the copy is
		// then the only one left. It is undone (so that a retry finds the
		// state it started from) only while the source is known to exist.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, herr := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &from})
		switch {
		case herr == nil:
			t.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &t.bucket, Key: &to})
		case errors.Is(s3Error(herr), fs.ErrNotExist):
			return nil // moved
		}
		return fmt.Errorf("deleting the source after the copy: %w", err)
	}
	return nil
}

// copyParts copies an object too large for CopyObject with UploadPartCopy.
func (t *S3) copyParts(ctx context.Context, from, to string, size int64, etag string) (err error) {
	up, err := t.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &t.bucket, Key: &to})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			t.abort(ctx, to, up.UploadId)
		}
	}()
	var parts []types.CompletedPart
	for off, num := int64(0), int32(1); off < size; off, num = off+t.copyPartSize, num+1 {
		end := min(off+t.copyPartSize, size) - 1
		out, err := t.client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket:            &t.bucket,
			Key:               &to,
			UploadId:          up.UploadId,
			PartNumber:        aws.Int32(num),
			CopySource:        aws.String(copySource(t.bucket, from)),
			CopySourceRange:   aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
			CopySourceIfMatch: aws.String(etag),
		})
		if err != nil {
			return fmt.Errorf("copying part %d: %w", num, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.CopyPartResult.ETag})
	}
	_, err = t.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &t.bucket,
		Key:             &to,
		UploadId:        up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfNoneMatch:     aws.String("*"),
	})
	return err
}

// copySource is the URL-encoded "bucket/key" CopyObject expects. "+" is
// encoded too: servers that decode the header as a form value read it as a
// space.
func copySource(bucket, key string) string {
	els := strings.Split(key, "/")
	for i, el := range els {
		els[i] = strings.ReplaceAll(url.PathEscape(el), "+", "%2B")
	}
	return bucket + "/" + strings.Join(els, "/")
}

func (t *S3) Remove(ctx context.Context, p string) error {
	rel, key, err := t.resolve("remove", p)
	if err != nil {
		return err
	}
	if rel == "." {
		return t.fail("remove", p, key, errNotFile)
	}
	// DeleteObject succeeds for a missing key; check first so that every backend reports
	// a missing file the same way.
	if _, err := t.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &t.bucket, Key: &key}); err != nil {
		return t.fail("remove", p, key, s3Error(err))
	}
	if _, err := t.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &t.bucket, Key: &key}); err != nil {
		return t.fail("remove", p, key, s3Error(err))
	}
	return nil
}

// MkdirAll does nothing: S3 has no directories.
func (t *S3) MkdirAll(ctx context.Context, dir string) error {
	_, _, err := t.resolve("mkdir", dir)
	return err
}

// Close does nothing: the HTTP client keeps no state worth closing.
func (t *S3) Close() error { return nil }
