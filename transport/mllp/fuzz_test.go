package mllp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
)

// fuzzSeeds are streams of frames: whole, partial, oversize, cut by a new
// <VT>, without the <CR> after <FS>, with noise between frames.
func fuzzSeeds() [][]byte {
	m1, m2 := adt("M1"), adt("M2")
	two := append(append([]byte("noise\r\n"), AppendFrame(nil, m1)...), AppendFrame(nil, m2)...)
	return [][]byte{
		two,
		two[:len(two)-5],
		append([]byte{StartBlock}, m1...),
		append(append([]byte{StartBlock}, bytes.Repeat([]byte("x"), 300)...), AppendFrame(nil, m2)...),
		append([]byte{StartBlock, 'a', 'b', StartBlock}, m1...),
		append(append([]byte{StartBlock}, m1...), EndBlock, StartBlock, EndBlock, CarriageReturn, EndBlock),
		AppendFrame(nil, []byte("MSH|^~\\&|A|B|C|D|2026||ADT^A01|\\F\\X|P|2.5\\F\\9\rPID|1\rMSH|^~\\&\r")),
		AppendFrame(nil, []byte("MSH|^~\\&|A|B|C|D|2026||ADT^A01|X|P|2.3\rpid|1\r")),
	}
}

// wantFrames cuts data as the frameReader's contract says: bytes outside a
// frame are skipped, <VT> starts a frame (dropping one started and not
// over the limit), <FS> ends it. It returns each frame's whole content.
func wantFrames(data []byte, limit int) (frames [][]byte, over []bool) {
	in := false
	var cur []byte
	for _, c := range data {
		switch {
		case c == StartBlock:
			if in && len(cur) > limit {
				frames, over = append(frames, cur), append(over, true)
			}
			in, cur = true, []byte{}
		case !in:
		case c == EndBlock:
			frames, over = append(frames, cur), append(over, len(cur) > limit)
			in = false
		default:
			cur = append(cur, c)
		}
	}
	return frames, over
}

// FuzzFrameReader checks the server's frame reader against its contract on
// any stream, a limit of 1 to 64 bytes and any cut of the stream into reads:
// the frames are those of wantFrames, the same whatever the reads' sizes; a
// frame within the limit is its whole content, one over it is flagged and
// keeps its first bytes (up to headKeep); and the server's verdict on each
// frame is AA, AE or AR with a reason (AR for a frame over the limit), in
// an ACK that reads back as one message with that code and the frame's
// MSH-10.
func FuzzFrameReader(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint8(10), uint8(3))
		f.Add(s, uint8(63), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit, cut uint8) {
		max := int(limit)%64 + 1
		frames, over := wantFrames(data, max)

		whole := frameReader{max: max}
		got := whole.feed(data)
		// Reads of 1 to 16 bytes, the size of each read drawn from cut.
		parts := frameReader{max: max}
		var split []frame
		for i, n := 0, 0; i < len(data); i += n {
			n = min(len(data)-i, int(cut>>((i/8)%4*2))%16+1)
			split = append(split, parts.feed(data[i:i+n])...)
		}
		for name, fs := range map[string][]frame{"one read": got, "reads of 1 to 16 bytes": split} {
			if len(fs) != len(frames) {
				t.Fatalf("%s: %d frames, want %d", name, len(fs), len(frames))
			}
			for i, fr := range fs {
				want := frames[i]
				if over[i] {
					want = want[:min(len(want), headKeep)]
				}
				if fr.over != over[i] || !bytes.Equal(fr.raw, want) {
					t.Fatalf("%s: frame %d = %q (over %v), want %q (over %v)", name, i, fr.raw, fr.over, want, over[i])
				}
			}
		}

		s := NewServer(nil, Config{MaxFrameBytes: max})
		now := time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC)
		for _, fr := range got {
			h, code, reason := s.check(fr, netip.MustParseAddr("192.0.2.1"))
			switch {
			case code != hl7.AckAccept && code != hl7.AckError && code != hl7.AckReject:
				t.Fatalf("code %q", code)
			case code != hl7.AckAccept && reason == "":
				t.Fatalf("%s without a reason", code)
			case fr.over && code != hl7.AckReject:
				t.Fatalf("a frame over the limit answered %s", code)
			}
			ack := hl7.AppendACK(nil, h, code, reason, now)
			if err := ackReads(ack, code, h.ControlID); err != nil {
				t.Fatalf("ACK %q of %+v: %v", ack, h, err)
			}
		}
	})
}

// ackReads says why ack is not one message whose MSA-1 is code and MSA-2
// is controlID (as written in the message answered).
func ackReads(ack []byte, code, controlID string) error {
	rd := hl7.NewReader(bytes.NewReader(ack))
	m, err := rd.Next()
	if err != nil {
		return fmt.Errorf("unreadable: %w", err)
	}
	if _, err := rd.Next(); err != io.EOF {
		return fmt.Errorf("more than one message: %v", err)
	}
	msa := m.First("MSA")
	if msa == nil {
		return errors.New("no MSA")
	}
	if got := string(msa.Field(1).Bytes()); got != code {
		return fmt.Errorf("MSA-1 %q", got)
	}
	if got := string(msa.Field(2).Bytes()); got != controlID {
		return fmt.Errorf("MSA-2 %q, want %q", got, controlID)
	}
	return nil
}

// FuzzReadFrame checks ReadFrame, the client's reader, on any stream and a
// limit of 0 (none) to 63 bytes: whatever its buffer's size, it returns the
// same frames and errors; each frame is the bytes from a <VT> to the next
// <FS>, within the limit; a frame over the limit is ErrFrameTooLarge and
// the next one is read after it; the stream ends with io.EOF outside a
// frame and io.ErrUnexpectedEOF inside one.
func FuzzReadFrame(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, uint8(10))
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, limit uint8) {
		max := int(limit) % 64
		want := readFrames(t, bufio.NewReaderSize(bytes.NewReader(data), 4096), max)
		if got := readFrames(t, bufio.NewReaderSize(bytes.NewReader(data), 16), max); got != want {
			t.Fatalf("16-byte buffer\n%s\n4096-byte buffer\n%s", got, want)
		}
		// The frames by the contract: from each <VT> outside a frame to the next <FS>.
		var b bytes.Buffer
		rest := data
		for {
			i := bytes.IndexByte(rest, StartBlock)
			if i < 0 {
				fmt.Fprintf(&b, "%v\n", io.EOF)
				break
			}
			rest = rest[i+1:]
			j := bytes.IndexByte(rest, EndBlock)
			if j < 0 {
				fmt.Fprintf(&b, "%v\n", io.ErrUnexpectedEOF)
				break
			}
			if max > 0 && j > max {
				fmt.Fprintf(&b, "%v: more than %d bytes\n", ErrFrameTooLarge, max)
			} else {
				fmt.Fprintf(&b, "%q\n", rest[:j])
			}
			rest = rest[j+1:]
			if len(rest) > 0 && rest[0] == CarriageReturn {
				rest = rest[1:]
			}
		}
		if b.String() != want {
			t.Fatalf("read\n%s\nwant\n%s", want, b.String())
		}
	})
}

// readFrames lists ReadFrame's frames and errors until it fails with
// another error than ErrFrameTooLarge.
func readFrames(t *testing.T, r *bufio.Reader, max int) string {
	var b bytes.Buffer
	for n := 0; ; n++ {
		if n > 1<<16 {
			t.Fatal("ReadFrame does not end")
		}
		fr, err := ReadFrame(r, max)
		switch {
		case errors.Is(err, ErrFrameTooLarge):
			fmt.Fprintf(&b, "%v\n", err)
		case err != nil:
			fmt.Fprintf(&b, "%v\n", err)
			return b.String()
		default:
			if max > 0 && len(fr) > max {
				t.Fatalf("frame of %d bytes over the limit %d", len(fr), max)
			}
			fmt.Fprintf(&b, "%q\n", fr)
		}
	}
}
