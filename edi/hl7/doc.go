// Package hl7 is a streaming HL7 v2 ER7 codec (v2.3 to v2.8): a reader that
// takes the delimiters of each message from its MSH-1 and MSH-2, accepts CR,
// LF or CRLF segment ends, walks batch files (FHS/BHS/BTS/FTS, their counts
// checked) and bare single- or multi-message files, and keeps Z-segments as
// they are; a writer; escapes (\F\ \S\ \T\ \R\ \E\ \X..\); and the syntax
// checks of a message header. Field, repetition, component and subcomponent
// numbers are 1-based, as HL7 writes them (PID-3[2].4.1).
//
// It knows nothing of policy: what an ADT event means is decided in
// mappings/adt.
package hl7
