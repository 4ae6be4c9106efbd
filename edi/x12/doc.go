// Package x12 is a streaming ASC X12 codec: a tokenizer that reads the
// delimiters from the ISA header, a segment writer that owns envelopes and
// counts, and the types both share. It knows nothing of policy; the
// implementation-guide tables and the validator live in package ig.
package x12
