// Package ig validates X12 transaction sets against implementation-guide
// tables and reports every problem with its position and its acknowledgment
// code, ready for a 999 or TA1 (package ack) and for people (calgw validate).
//
// # Tables
//
// A Spec is one guide's transaction set as plain data: Loop → Segment →
// Element (simple or composite), with usage (R/S/N), maximum use and loop
// repeat, positions, data element type and length, valid codes and X12
// syntax notes (P, R, E, C, L). The built-in specs are generated from the
// pyx12 maps (BSD-3-Clause, see PYX12_LICENSE.txt) by internal/x12gen:
//
//	Spec837P   837 Professional      005010X222A1  (with the claim balancing check)
//	Spec834    834 Enrollment        005010X220A1
//	Spec999    999 Acknowledgment    005010X231A1
//	Spec277CA  277 Claim Ack         005010X214
//
// Specs are found by (GS08, ST01) in a Registry; NewRegistry() returns one
// with the built-in ones, and Registry.Register adds another (for instance
// the hand-written 004050X109 274 table, which x274.Register adds) with its
// semantic checks. Default() is the shared registry of the built-in ones
// that a Validator without a Registry uses; nothing is added to it. Tables
// are compiled on first use, once per process, not when the package loads. A Check is a
// rule a table cannot express (the 837P balancing rule is one), a Go value
// made per transaction set and shown every segment the table placed, or
// only those it names when it is also a SegmentFilter; it reports through
// Txn.Report. Nothing about a particular guide is special-cased in the
// walker.
//
// # Validation
//
//	v := ig.NewValidator(ig.Options{
//		OnFinding:     func(f *ig.Finding) { ... },          // every finding as found
//		OnTransaction: func(t *ig.TransactionResult) error { ... }, // per ST..SE
//		OnGroup:       func(g *ig.GroupResult) error { ... },       // per GS..GE
//	})
//	sum, err := v.Validate(ctx, file)
//
// Validate streams: memory stays flat however many transaction sets the input
// holds (one 64 KiB buffer, counters per loop, findings of the open
// transaction set only), and results arrive through the callbacks (valid
// only during each call); package ack turns them into a 999 and a TA1.
// Validate walks each transaction set through its table the way pyx12's map
// walker does: a segment is placed by its ID and qualifier (the first
// element's code, or HL03 for HL), searching forward in the current loop,
// into child loops and out to the enclosing loops; what was passed over and
// is required is reported missing.
//
// ValidateAt validates an input it can read at any offset (a file) the same
// way, in parts, one per core, where a spec allows it: a transaction set
// without HL loops is cut at triggers of its first loop that repeats
// without limit (the 834's member loops). Every part after the first starts
// from the state the first was in after that loop's first trigger, holds
// its findings and is joined only where the single pass reaches its start
// in that state; otherwise the pass goes on as Validate's would. Results,
// findings and callbacks are Validate's (split.go says how); Checks that
// are SplitChecks run in the parts too.
//
// Checks: the envelope (ISA fixed widths and values, IEA01/IEA02, GS/GE and
// ST/SE counts and control numbers, duplicates), segment placement (unknown,
// unexpected, out of sequence, not used, over maximum use, loop over repeat,
// required segment or loop missing), elements (required, not used, too many
// elements, components or repetitions, type: AN character set, ID codes and
// external code lists, N and R numbers, DT dates, TM times, date formats
// named by a 1250 qualifier, length, patterns), syntax notes at segment and
// composite level, the HL chain (HL01 counts from 1, HL02 names the
// enclosing level, HL04 says whether a subordinate level follows), and the
// registered Checks (837P: CLM02 equals the sum of SV102, LX01 numbers the
// lines of a claim 1, 2, 3…), ST03 against GS08, and trailing element
// separators. Two segments in a row that belong to a loop whose trigger is
// missing (a claim without its CLM) report the trigger missing and open the
// loop, so the rest of it is checked. A GS08 that names a guide without its addenda
// (005010X231) is validated with the guide's tables (005010X231A1), with a
// group warning. The byte order mark and the spaces or tabs the reader
// skips before segments are each reported once per input as a warning
// (TA105 000) that no acknowledgment carries. docs/x12-validation.md lists
// these rules and their codes.
//
// # Findings and codes
//
// A Finding carries its position in the input (segment ordinal, line, byte
// offset), its place in the transaction set (IK302 position, IK303 loop,
// IK301 segment, element, component and repetition) and the code of its
// Level: TA105 for the interchange, AK905 for the group, IK502 for the
// transaction set, IK304 for a segment, IK403 for an element. The 999 has no
// code for a broken balancing or HL rule; those are reported as IK403 I12
// (implementation pattern match failure). Code values are not told apart
// from codes the X12 standard has but the guide does not use (I6): both are
// reported as 7.
//
// Finding.Msg never holds data values. Finding.Value holds the offending
// value where there is one: it may be member data (PHI) and must never be
// logged; it exists for IK404 (copy of bad data element).
package ig

//go:generate sh -c "cd ../../.. && go run ./edi/x12/ig/internal/x12gen -maps edi/x12/ig/internal/x12gen/maps -out edi/x12/ig"
