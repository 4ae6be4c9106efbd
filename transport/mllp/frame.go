// Package mllp carries HL7 v2 messages over TCP with the Minimal Lower Layer
// Protocol: each message travels in a frame <VT> message <FS><CR> (0x0B ...
// 0x1C 0x0D), and each is answered with an acknowledgment in a frame of its
// own, in the order the messages came.
//
// Server reads frames from many connections at once, hands each message to a
// Sink and writes the ACK only after the Sink says the message is durably
// stored (AA), or refused it (AE, AR). Client sends messages and reads their
// ACKs, one at a time (Send) or with several in flight (Write, ReadACK).
package mllp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// Framing bytes.
const (
	StartBlock     = 0x0b // <VT>
	EndBlock       = 0x1c // <FS>
	CarriageReturn = 0x0d // <CR> after <FS>
)

// AppendFrame appends msg framed as <VT> msg <FS><CR> to dst.
func AppendFrame(dst, msg []byte) []byte {
	dst = append(dst, StartBlock)
	dst = append(dst, msg...)
	return append(dst, EndBlock, CarriageReturn)
}

// ErrFrameTooLarge is returned by ReadFrame for a frame over its limit.
var ErrFrameTooLarge = errors.New("mllp: frame too large")

// ReadFrame reads the next frame from r and returns its content: bytes
// before a <VT> are skipped, the frame ends at <FS> (the <CR> after it is
// consumed when it follows). A frame of more than max bytes (0: no limit)
// is read to its end and reported as ErrFrameTooLarge.
func ReadFrame(r *bufio.Reader, max int) ([]byte, error) {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return nil, err
		}
		if c == StartBlock {
			break
		}
	}
	var msg []byte
	over := false
	for {
		chunk, err := r.ReadSlice(EndBlock)
		if !over {
			msg = append(msg, chunk...)
			if max > 0 && len(msg) > max+1 {
				over, msg = true, nil
			}
		}
		switch {
		case err == nil:
			if c, err := r.ReadByte(); err == nil && c != CarriageReturn {
				r.UnreadByte()
			}
			if over {
				return nil, fmt.Errorf("%w: more than %d bytes", ErrFrameTooLarge, max)
			}
			return msg[:len(msg)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}
