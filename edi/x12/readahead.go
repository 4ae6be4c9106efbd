package x12

import (
	"errors"
	"sync"
)

// Read-ahead: once a Reader made with WithReadAhead has read enough input
// to be worth it, a second goroutine (the producer) takes over reading and
// splitting, and Next (the consumer, on the caller's goroutine) hands out
// views of the segments it split. The producer runs the same code as Next
// without read-ahead, so segments, positions and errors are the same.
//
// Nothing is copied: the producer reads the input into the buffer (chunk)
// of a batch and splits the segments where they are, appending their
// element ends to the batch; where it would slide its buffer, it passes the
// batch on and continues in the chunk of a free one. The batches go round
// between the two goroutines, so memory stays bounded.

// WithReadAhead lets the Reader read and split the input on a second
// goroutine, ahead of Next, once at least after bytes have been read (the
// input is large enough to be worth it), if GOMAXPROCS allows two
// goroutines to run at once. Next, the segments it returns, their
// positions, InputOffset and the errors are the same as without it.
//
// The Reader then reads its io.Reader on that goroutine and may have read
// further than the segments returned. Close stops the goroutine and waits
// for it (and so for a Read in progress): a Reader with read-ahead must be
// closed, and its io.Reader not used before it is.
func WithReadAhead(after int64) ReaderOption {
	return func(r *Reader) {
		r.aheadAfter = max(after, 0)
		r.aheadOK = true
	}
}

// ErrClosed is returned by Next after Close.
var ErrClosed = errors.New("x12: reader closed")

// The batches in flight: while the consumer works on one, the producer
// fills the others.
const (
	aheadBatches = 4
	aheadChunk   = 4 * readChunk // bytes of input per batch
)

// aheadBatch holds consecutive segments: the input they are in (chunk,
// which starts at input offset base), their element ends one segment after
// the other (relative to each segment, as in Segment) and the rest in segs.
// The batch that ends the input says why in err.
type aheadBatch struct {
	chunk     []byte
	base      int64
	ends      []int32
	segs      []aheadSeg
	err       error // the error after the last segment (io.EOF at the end)
	errOffset int64 // InputOffset after that error
}

type aheadSeg struct {
	special uint64
	line    int64
	start   int32 // the segment is chunk[start:start+its last end]
	endsEnd int32 // its element ends are ends[previous endsEnd:endsEnd]
	d       Delimiters
	tail    uint8 // bytes after the segment up to InputOffset: the terminator and a CR trimmed
	pad     uint8 // Segment.pad
}

func (b *aheadBatch) reset() {
	b.ends, b.segs, b.err, b.errOffset = b.ends[:0], b.segs[:0], nil, 0
}

// aheadPool recycles the batches of closed Readers, so that reading many
// files does not allocate them each time.
// Their buffers are made as needed (see begin) and grow with use.
var aheadPool = sync.Pool{New: func() any { return new([aheadBatches]aheadBatch) }}

// readAhead is the consumer's side of a read-ahead. The batches go round
// between the goroutines through free and full; each can hold every batch,
// so a send never blocks.
type readAhead struct {
	batches *[aheadBatches]aheadBatch
	free    chan *aheadBatch // to the producer
	full    chan *aheadBatch // to the consumer
	done    chan struct{}    // closed by Close: the producer stops
	exited  chan struct{}    // closed by the producer when it returns

	cur     *aheadBatch
	i       int   // next segment of cur
	endsPos int32 // where its element ends start
	ordinal int64 // of the last segment returned
	offset  int64 // InputOffset after it
	seg     Segment
}

// producer is the producer's side: a Reader of its own, which carries on
// from where the consumer's stopped reading.
type producer struct {
	x *Reader
	a *readAhead
	b *aheadBatch // the batch being filled
}

// errStopped stops the producer inside fill when Close was called.
var errStopped = errors.New("x12: read-ahead stopped")

// startAhead hands the reading over to a producer goroutine, with a copy
// of the Reader's state; the Reader itself now only hands out batches.
func (x *Reader) startAhead() {
	a := &readAhead{
		batches: aheadPool.Get().(*[aheadBatches]aheadBatch),
		free:    make(chan *aheadBatch, aheadBatches),
		full:    make(chan *aheadBatch, aheadBatches),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
		ordinal: x.ordinal,
		offset:  x.InputOffset(),
	}
	a.seg.d = x.seg.d
	for i := 1; i < len(a.batches); i++ {
		a.free <- &a.batches[i]
	}
	px := new(Reader)
	*px = *x
	px.aheadOK = false
	p := &producer{x: px, a: a, b: &a.batches[0]}
	px.prod = p
	// The producer continues in the first batch's chunk with what is
	// buffered.
	p.begin(p.b)
	n := copy(p.b.chunk, px.buf[px.r:px.w])
	px.buf = p.b.chunk
	px.base += int64(px.r)
	px.scanned = max(px.scanned-px.r, 0)
	px.r, px.w = 0, n
	x.buf, x.ends, x.seg = nil, nil, Segment{}
	x.ahead = a
	go p.run()
}

// begin starts filling batch b from the producer's position: it will read
// into b's chunk, which holds the input from there on.
func (p *producer) begin(b *aheadBatch) {
	x := p.x
	b.reset()
	// A batch's worth, but never more than the Reader's buffer would hold
	// without read-ahead: a segment over the maximum size must fail the
	// same way.
	n := max(len(x.buf), min(aheadChunk, x.maxSeg+1))
	if cap(b.chunk) < n {
		b.chunk = make([]byte, n)
	}
	b.chunk = b.chunk[:n]
	b.base = x.base + int64(x.r)
	x.ends, x.endsBase = b.ends[:0], 0
}

// stopped returns errStopped once Close was called.
func (p *producer) stopped() error {
	select {
	case <-p.a.done:
		return errStopped
	default:
		return nil
	}
}

// nextChunk passes the current batch on and returns the chunk of the next
// one, for fill to slide into.
func (p *producer) nextChunk() ([]byte, error) {
	p.send()
	select {
	case p.b = <-p.a.free:
	case <-p.a.done:
		return nil, errStopped
	}
	p.begin(p.b)
	return p.b.chunk, nil
}

// send passes the current batch to the consumer.
func (p *producer) send() {
	b := p.b
	b.chunk = p.x.buf // fill may have grown it
	b.ends = p.x.ends[:p.x.endsBase]
	p.b = nil
	p.a.full <- b
}

// run reads segments into batches until an error (io.EOF at the end),
// which it passes on after the last segment, or until Close.
func (p *producer) run() {
	defer close(p.a.exited)
	x := p.x
	for {
		seg, err := x.Next()
		if err == errStopped {
			return
		}
		b := p.b
		if err != nil {
			b.err, b.errOffset = err, x.InputOffset()
			p.send()
			return
		}
		b.segs = append(b.segs, aheadSeg{special: seg.special, line: seg.Line, start: int32(seg.Offset - b.base),
			endsEnd: int32(len(x.ends)), d: seg.d, tail: uint8(x.InputOffset() - seg.Offset - int64(len(seg.data))), pad: seg.pad})
		x.endsBase = len(x.ends) // keep the segment's ends
	}
}

// nextAhead is Next with read-ahead: the next segment of the current batch.
func (x *Reader) nextAhead() (*Segment, error) {
	a := x.ahead
	b := a.cur
	for b == nil || a.i == len(b.segs) {
		if b != nil {
			if b.err != nil {
				a.offset = b.errOffset
				return x.fail(b.err)
			}
			a.free <- b
		}
		b = <-a.full // the producer ends with a batch that has an error
		a.cur, a.i, a.endsPos = b, 0, 0
	}
	e := &b.segs[a.i]
	a.i++
	s := &a.seg
	s.ends = b.ends[a.endsPos:e.endsEnd:e.endsEnd]
	a.endsPos = e.endsEnd
	end := e.start + s.ends[len(s.ends)-1]
	s.data = b.chunk[e.start:end:end]
	a.ordinal++
	s.Ordinal, s.Offset, s.Line = a.ordinal, b.base+int64(e.start), e.line
	s.special, s.d, s.pad = e.special, e.d, e.pad
	a.offset = b.base + int64(end) + int64(e.tail)
	return s, nil
}

// Close stops reading ahead, waiting for the goroutine that does, and
// makes Next return ErrClosed (or the error it already returned). The
// last segment returned is no longer valid. It returns nil.
func (x *Reader) Close() error {
	if x.err == nil {
		x.err = ErrClosed
	}
	a := x.ahead
	if a == nil || a.batches == nil {
		return nil
	}
	close(a.done)
	<-a.exited
	for i := range a.batches {
		b := &a.batches[i]
		b.reset()
		if cap(b.chunk) > aheadChunk { // a long segment went through: do not keep it
			b.chunk = make([]byte, aheadChunk)
		}
	}
	aheadPool.Put(a.batches)
	a.batches, a.cur = nil, nil
	a.seg = Segment{d: a.seg.d}
	return nil
}
