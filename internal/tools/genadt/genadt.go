// Package genadt writes large, realistic HL7 v2 ADT batch files for
// benchmarks: A01, A03, A04 and A08 messages in turn for the members of a
// gen834 file (their CINs in PID-3 with type MA), every name and number
// made up. Large files are generated, never committed.
package genadt

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/hl7"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
)

// Write writes a batch of n messages for members member CINs of opts
// (gen834's numbering) to w.
func Write(w io.Writer, n, members int, opts gen834.Options) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	hw := hl7.NewWriter(bw, hl7.Default)
	d := hl7.Default
	if err := hw.BeginBatch("GEN", "HOSP"); err != nil {
		return err
	}
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	triggers := []string{"A01", "A03", "A04", "A08"}
	classes := []string{"I", "I", "E", "I"}
	for i := 0; i < n; i++ {
		t := t0.Add(time.Duration(i) * time.Second).Format("20060102150405")
		k := i % len(triggers)
		cin := opts.CIN(i % max(members, 1))
		hw.Segment("MSH", "GEN", d.Components("HOSP", "1234567890", "NPI"), "CALGW", "PLAN", t, "", d.Components("ADT", triggers[k], "ADT_A01"), "G"+strconv.Itoa(i), "P", "2.5.1")
		hw.Segment("EVN", triggers[k], t)
		hw.Segment("PID", "1", "", d.Repetitions(d.Components("MRN"+strconv.Itoa(i%members), "", "", "HOSP", "MR"), d.Components(cin, "", "", "CAMEDI", "MA")),
			"", d.Components("DOE", "PAT"), "", "19800101", "F")
		pv1 := make([]string, 45)
		pv1[0], pv1[1], pv1[2], pv1[18], pv1[43] = "1", classes[k], d.Components("4W", "401", "A", "HOSP"), "V"+strconv.Itoa(i/4), t
		if triggers[k] == "A03" {
			pv1[35], pv1[44] = "01", t
		}
		hw.Segment("PV1", pv1...)
		if err := hw.Segment("DG1", "1", "", d.Components("J18.9", "Pneumonia, unspecified organism", "I10"), "", t[:8], "A"); err != nil {
			return fmt.Errorf("genadt: %w", err)
		}
	}
	if err := hw.EndBatch(); err != nil {
		return err
	}
	if err := hw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}
