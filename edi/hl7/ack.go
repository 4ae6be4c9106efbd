package hl7

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is what an acknowledgment needs of a message's MSH segment. The
// field values are kept as received (escape sequences included, in the
// message's own delimiters), so that they can be copied into an answer
// written with the same delimiters.
type Header struct {
	// Field is MSH-1; Component, Repetition, Escape and Subcomponent are
	// MSH-2's four characters (Encoding holds MSH-2 whole: a fifth,
	// truncation character in v2.7 and later). An MSH-2 of two or three
	// characters leaves Subcomponent, then Escape, 0.
	Field, Component, Repetition, Escape, Subcomponent byte
	Encoding                                           string

	SendingApplication   string // MSH-3
	SendingFacility      string // MSH-4
	ReceivingApplication string // MSH-5
	ReceivingFacility    string // MSH-6
	Time                 string // MSH-7
	Type                 string // MSH-9, e.g. ADT^A01^ADT_A01
	ControlID            string // MSH-10
	ProcessingID         string // MSH-11
	// Version is MSH-12's version ID (its first component, unescaped);
	// VersionField is MSH-12 whole, as received.
	Version, VersionField string
	// CharacterSet is MSH-18 as received ("" for ASCII).
	CharacterSet string
}

// ErrHeader is wrapped by every error of ReadHeader.
var ErrHeader = errors.New("hl7: MSH")

// ReadHeader reads the MSH segment at the start of msg (one message, as an
// MLLP frame carries it; leading CR or LF are skipped). The segment ends at
// the first CR or LF. It fails when msg does not start with MSH or MSH-1/2
// are not usable delimiters; it also fails, returning the Header as far as
// it was read (enough for AppendACK), when MSH-9, MSH-10 or MSH-12 is empty.
func ReadHeader(msg []byte) (Header, error) {
	var h Header
	msg = bytes.TrimLeft(msg, "\r\n")
	if len(msg) < 8 || string(msg[:3]) != "MSH" {
		return h, fmt.Errorf("%w: the message does not start with an MSH segment", ErrHeader)
	}
	seg := msg
	if i := bytes.IndexAny(msg, "\r\n"); i >= 0 {
		seg = msg[:i]
	}
	if len(seg) < 4 {
		return h, fmt.Errorf("%w-1: the MSH segment ends before its field separator", ErrHeader)
	}
	fs := seg[3]
	if !hdrDelimiter(fs) {
		return h, fmt.Errorf("%w-1: field separator %q is not a printable mark", ErrHeader, fs)
	}
	rest := seg[4:]
	enc := rest
	if i := bytes.IndexByte(rest, fs); i >= 0 {
		enc = rest[:i]
	}
	if len(enc) < 2 || len(enc) > 5 {
		return h, fmt.Errorf("%w-2: encoding characters %q: want 4 (2 or 3 without subcomponents or escapes, 5 from v2.7)", ErrHeader, enc)
	}
	seen := map[byte]bool{fs: true}
	for _, c := range enc {
		if !hdrDelimiter(c) || seen[c] {
			return h, fmt.Errorf("%w-2: encoding characters %q: each must be a distinct printable mark, other than MSH-1", ErrHeader, enc)
		}
		seen[c] = true
	}
	h.Field = fs
	for i, p := range []*byte{&h.Component, &h.Repetition, &h.Escape, &h.Subcomponent}[:min(len(enc), 4)] {
		*p = enc[i]
	}
	h.Encoding = string(enc)
	// fields[n] is MSH-(n+1) for n >= 1 (MSH-1 is the separator itself).
	fields := bytes.Split(seg[3:], []byte{fs})
	get := func(n int) string {
		if n-1 < len(fields) {
			return string(fields[n-1])
		}
		return ""
	}
	h.SendingApplication, h.SendingFacility = get(3), get(4)
	h.ReceivingApplication, h.ReceivingFacility = get(5), get(6)
	h.Time, h.Type, h.ControlID, h.ProcessingID = get(7), get(9), get(10), get(11)
	h.CharacterSet = get(18)
	h.VersionField = get(12)
	h.Version = h.FirstComponent(h.VersionField)
	switch {
	case h.Type == "":
		return h, fmt.Errorf("%w-9 (message type) is empty", ErrHeader)
	case h.ControlID == "":
		return h, fmt.Errorf("%w-10 (message control ID) is empty", ErrHeader)
	case h.Version == "":
		return h, fmt.Errorf("%w-12 (version ID) is empty", ErrHeader)
	}
	return h, nil
}

// hdrDelimiter reports whether c may be a delimiter: printable ASCII, not
// a letter, digit or space.
func hdrDelimiter(c byte) bool {
	return c > ' ' && c < 0x7f && !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z')
}

// FirstComponent returns the first component of a field value of the
// message (first repetition), unescaped: e.g. the namespace ID of MSH-3 or
// MSH-4, or the message code of MSH-9.
func (h Header) FirstComponent(v string) string {
	if h.Repetition != 0 {
		if i := strings.IndexByte(v, h.Repetition); i >= 0 {
			v = v[:i]
		}
	}
	if h.Component != 0 {
		if i := strings.IndexByte(v, h.Component); i >= 0 {
			v = v[:i]
		}
	}
	if h.Subcomponent != 0 {
		if i := strings.IndexByte(v, h.Subcomponent); i >= 0 {
			v = v[:i]
		}
	}
	return h.ackUnescape(v)
}

// ackUnescape resolves \F\ \S\ \T\ \R\ \E\ in v; other escapes are kept.
func (h Header) ackUnescape(v string) string {
	e := h.Escape
	if e == 0 || strings.IndexByte(v, e) < 0 {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == e && i+2 < len(v) && v[i+2] == e {
			r := byte(0)
			switch v[i+1] {
			case 'F':
				r = h.Field
			case 'S':
				r = h.Component
			case 'T':
				r = h.Subcomponent
			case 'R':
				r = h.Repetition
			case 'E':
				r = h.Escape
			}
			if r != 0 {
				b.WriteByte(r)
				i += 2
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// ACK codes (MSA-1, original acknowledgment mode).
const (
	AckAccept = "AA" // stored
	AckError  = "AE" // not stored: an error in the message
	AckReject = "AR" // not stored: refused (frame too large, sender not allowed, unreadable header, store failed)
)

// ackTextMax bounds MSA-3 and ERR-8 (80 characters in v2.3 to v2.8).
const ackTextMax = 80

// AppendACK appends to dst an acknowledgment of the message whose header is
// h, in h's delimiters (HL7's defaults when h has none): MSH with the
// sending and receiving application and facility swapped (MSH-3/4 ←
// inbound MSH-5/6, MSH-5/6 ← inbound MSH-3/4), MSH-7 now, MSH-9
// ACK^<inbound trigger>^ACK (ACK^<trigger> in v2.3, which has no MSH-9.3),
// MSH-10 a control ID made from now, MSH-11 and MSH-12 as received
// (VersionField; Version escaped when a Header built by hand has no
// VersionField), and MSH-18 as received when the message has one (the
// values copied from the message are in its character set); then
// MSA-1 code and MSA-2 the inbound MSH-10. With AE or AR, errText (escaped,
// cut to 80 characters) goes in MSA-3 and in an ERR segment: ERR-3 207
// (application internal error, table 0357), ERR-4 E and ERR-8 the text
// from v2.5; ERR-1 for v2.3 and v2.4. Segments end with CR.
func AppendACK(dst []byte, h Header, code, errText string, now time.Time) []byte {
	if h.Field == 0 {
		h.Field, h.Component, h.Repetition, h.Escape, h.Subcomponent = '|', '^', '~', '\\', '&'
		h.Encoding = `^~\&`
	}
	if h.Encoding == "" {
		h.Encoding = string([]byte{h.Component, h.Repetition, h.Escape, h.Subcomponent})
	}
	f := h.Field
	dst = append(dst, "MSH"...)
	dst = append(dst, f)
	dst = append(dst, h.Encoding...)
	for _, v := range []string{h.ReceivingApplication, h.ReceivingFacility, h.SendingApplication, h.SendingFacility} {
		dst = append(dst, f)
		dst = append(dst, v...)
	}
	dst = append(dst, f)
	dst = now.AppendFormat(dst, "20060102150405-0700")
	dst = append(dst, f, f)
	dst = append(dst, "ACK"...)
	if trigger := h.ackTrigger(); trigger != "" {
		dst = append(dst, h.Component)
		dst = append(dst, trigger...)
		if h.Version != "2.3" { // MSH-9.3, the message structure, came in v2.3.1
			dst = append(dst, h.Component)
			dst = append(dst, "ACK"...)
		}
	}
	dst = append(dst, f)
	dst = strconv.AppendInt(append(dst, 'A'), now.UnixNano(), 36)
	dst = append(dst, f)
	dst = append(dst, h.ProcessingID...)
	dst = append(dst, f)
	if h.VersionField != "" {
		dst = append(dst, h.VersionField...)
	} else {
		dst = h.appendEscaped(dst, h.Version)
	}
	if h.CharacterSet != "" {
		dst = append(dst, f, f, f, f, f, f)
		dst = append(dst, h.CharacterSet...)
	}
	dst = append(dst, '\r')

	dst = append(dst, "MSA"...)
	dst = append(dst, f)
	dst = append(dst, code...)
	dst = append(dst, f)
	dst = append(dst, h.ControlID...)
	if code == AckAccept {
		return append(dst, '\r')
	}
	text := ackCut(errText, ackTextMax)
	dst = append(dst, f)
	dst = h.appendEscaped(dst, text)
	dst = append(dst, '\r')

	dst = append(dst, "ERR"...)
	dst = append(dst, f)
	if ackOldERR(h.Version) {
		// ERR-1 (ELD): ^^^<code>&<text>&HL70357, or ^^^<code> without a
		// subcomponent separator.
		dst = append(dst, h.Component, h.Component, h.Component)
		dst = append(dst, "207"...)
		if h.Subcomponent == 0 {
			return append(dst, '\r')
		}
		dst = append(dst, h.Subcomponent)
		dst = h.appendEscaped(dst, text)
		dst = append(dst, h.Subcomponent)
		dst = append(dst, "HL70357"...)
		return append(dst, '\r')
	}
	dst = append(dst, f, f)
	dst = append(dst, "207"...)
	dst = append(dst, h.Component)
	dst = append(dst, "Application internal error"...)
	dst = append(dst, h.Component)
	dst = append(dst, "HL70357"...)
	dst = append(dst, f, 'E', f, f, f, f)
	dst = h.appendEscaped(dst, text)
	return append(dst, '\r')
}

// ackTrigger is the trigger event of the inbound MSH-9 (its second
// component), as received.
func (h Header) ackTrigger() string {
	parts := strings.Split(h.Type, string(h.Component))
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// ackOldERR reports whether version predates v2.5's ERR (ERR-1 only).
func ackOldERR(version string) bool {
	return strings.HasPrefix(version, "2.3") || strings.HasPrefix(version, "2.4") ||
		strings.HasPrefix(version, "2.2") || strings.HasPrefix(version, "2.1")
}

// ackCut cuts s to at most n bytes, at a UTF-8 character boundary.
func ackCut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}

// appendEscaped appends s with h's delimiters escaped (\F\ \S\ \T\ \R\
// \E\, and \P\ for the truncation character, MSH-2's fifth) and CR, LF
// and MLLP's frame bytes (VT 0x0B, FS 0x1C) turned into spaces: the text
// can neither end the ACK's segment nor its frame. Without an escape
// character (MSH-2 of two characters) the delimiters are spaces too.
func (h Header) appendEscaped(dst []byte, s string) []byte {
	e := h.Escape
	var trunc byte
	if len(h.Encoding) == 5 {
		trunc = h.Encoding[4]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		var r byte
		switch {
		case c == '\r', c == '\n', c == 0x0b, c == 0x1c:
			dst = append(dst, ' ')
			continue
		case c == h.Field:
			r = 'F'
		case c == h.Component:
			r = 'S'
		case c == h.Repetition:
			r = 'R'
		case e != 0 && c == e:
			r = 'E'
		case h.Subcomponent != 0 && c == h.Subcomponent:
			r = 'T'
		case trunc != 0 && c == trunc:
			r = 'P'
		}
		switch {
		case r != 0 && e == 0:
			dst = append(dst, ' ')
		case r != 0:
			dst = append(dst, e, r, e)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
