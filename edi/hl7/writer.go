package hl7

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Writer writes ER7 segments with CR ends. Field values are written as
// given: build them with Escape and the delimiters' Join functions.
type Writer struct {
	w       *bufio.Writer
	d       Delimiters
	batches int
	msgs    int
	inBatch bool
	err     error
}

// NewWriter returns a writer that uses d for every segment.
func NewWriter(w io.Writer, d Delimiters) *Writer {
	return &Writer{w: bufio.NewWriter(w), d: d}
}

// Delimiters returns the writer's delimiters.
func (w *Writer) Delimiters() Delimiters { return w.d }

// Segment writes one segment. For MSH, FHS and BHS the writer writes fields
// 1 and 2 (the delimiters) itself, and fields start at field 3.
func (w *Writer) Segment(name string, fields ...string) error {
	if w.err != nil {
		return w.err
	}
	if _, ok := segmentName([]byte(name)); !ok || len(name) != 3 {
		w.err = fmt.Errorf("hl7: segment ID %q is not three capital letters or digits", name)
		return w.err
	}
	w.w.WriteString(name)
	switch name {
	case "MSH", "FHS", "BHS":
		w.w.WriteByte(w.d.Field)
		w.w.WriteString(w.d.encoding())
	}
	if name == "MSH" {
		w.msgs++
	}
	for _, f := range fields {
		w.w.WriteByte(w.d.Field)
		w.w.WriteString(f)
	}
	_, w.err = w.w.Write([]byte{'\r'})
	return w.err
}

// Raw writes a message's segments as they were read.
func (w *Writer) Raw(m *Message) error {
	if w.err != nil {
		return w.err
	}
	w.msgs++
	_, w.err = w.w.Write(m.Bytes())
	return w.err
}

// BeginBatch writes a BHS with the given fields from BHS-3 on and starts
// counting messages.
func (w *Writer) BeginBatch(fields ...string) error {
	w.inBatch, w.msgs = true, 0
	w.batches++
	return w.Segment("BHS", fields...)
}

// EndBatch writes a BTS with the count of messages since BeginBatch.
func (w *Writer) EndBatch() error {
	if !w.inBatch {
		return fmt.Errorf("hl7: EndBatch without BeginBatch")
	}
	w.inBatch = false
	return w.Segment("BTS", strconv.Itoa(w.msgs))
}

// BeginFile writes an FHS with the given fields from FHS-3 on.
func (w *Writer) BeginFile(fields ...string) error {
	w.batches = 0
	return w.Segment("FHS", fields...)
}

// EndFile writes an FTS with the count of batches since BeginFile.
func (w *Writer) EndFile() error { return w.Segment("FTS", strconv.Itoa(w.batches)) }

// Flush writes what is buffered.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	return w.w.Flush()
}

// Components joins escaped values with the component separator.
func (d Delimiters) Components(values ...string) string { return d.join(d.Component, values) }

// Repetitions joins values with the repetition separator.
func (d Delimiters) Repetitions(values ...string) string { return d.join(d.Repetition, values) }

// Subcomponents joins escaped values with the subcomponent separator.
func (d Delimiters) Subcomponents(values ...string) string { return d.join(d.Subcomponent, values) }

func (d Delimiters) join(sep byte, values []string) string {
	n := len(values)
	for n > 0 && values[n-1] == "" {
		n--
	}
	b := make([]byte, 0, 32)
	for i, v := range values[:n] {
		if i > 0 {
			b = append(b, sep)
		}
		b = append(b, v...)
	}
	return string(b)
}
