// Package strarena makes many short strings from byte slices with one
// allocation per few kilobytes instead of one per string: a mapper that
// turns every element of a record into a string (a member's name, address,
// codes) spends more on allocating and collecting them than on the rest.
//
// The strings share chunks of memory. A chunk's bytes are written once,
// before any string refers to them, and never again; a full chunk is left
// to the strings that refer to it (the garbage collector frees it with the
// last one) and a new one is started. So each string stays as immutable as
// one made with string(b). A string kept for long keeps its whole chunk
// alive: use an Arena for records that are handed on and dropped, not for
// values kept in a long-lived index.
package strarena

import (
	"strings"
	"unsafe"
)

// ChunkSize is the size of a chunk. Strings longer than a sixteenth of it
// are allocated on their own.
const ChunkSize = 4096

// Arena makes strings. The zero value is ready to use; an Arena is not safe
// for concurrent use.
type Arena struct {
	buf []byte // the current chunk; buf[:len(buf)] is taken
}

// room makes sure the current chunk has room for n more bytes.
func (a *Arena) room(n int) {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, ChunkSize)
	}
}

// String returns string(b).
func (a *Arena) String(b []byte) string {
	n := len(b)
	switch {
	case n == 0:
		return ""
	case n > ChunkSize/16:
		return string(b)
	}
	a.room(n)
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], n)
}

// Upper returns strings.ToUpper(string(b)).
func (a *Arena) Upper(b []byte) string {
	n := len(b)
	switch {
	case n == 0:
		return ""
	case n > ChunkSize/16:
		return strings.ToUpper(string(b))
	}
	a.room(n)
	start := len(a.buf)
	for _, c := range b {
		switch {
		case c >= 0x80: // not ASCII: Unicode's rules
			a.buf = a.buf[:start]
			return strings.ToUpper(string(b))
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		a.buf = append(a.buf, c)
	}
	return unsafe.String(&a.buf[start], n)
}
