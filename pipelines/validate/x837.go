package validate

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// check837 adds the DHCS conventions of an encounter file to the guide's
// checks, against the encounter trading-partner profile (docs/dhcs.md),
// for the gateway's own files: those whose ISA06 is the profile's sender_id
// or starts with its plan.tin (another sender's 837 is not checked). It
// checks the receiver IDs (ISA08, GS03, 1000B NM109); with an HCP
// code table (plan.hcp_codes), ISA06 = TIN + one of the plan's HCP codes,
// GS02 the TIN, and every CLM01 starting with that HCP code, so that the
// file holds one HCP code only (dhcs-observed-formats.md B1 [P], B2.1 [S]/[P],
// B2.6 [S]).
func check837(_ context.Context, v *validator, path string, w io.Writer) (int, error) {
	cfg, _, err := v.load()
	if err != nil {
		return 0, err
	}
	tp := cfg.EncounterPartner()
	hcps := tp.Plan.HCPs()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	problems := 0
	rd := x12.NewReader(f)
	fileHCP := ""
	ours := true
	for {
		seg, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(w, "%s: DHCS checks stopped: %v\n", path, err)
			return problems + 1, nil
		}
		bad := func(field, format string, a ...any) {
			problems++
			fmt.Fprintf(w, "%s: segment %d (line %d) %s: %s\n", path, seg.Ordinal, seg.Line, field, fmt.Sprintf(format, a...))
		}
		if !ours && string(seg.ID()) != "ISA" {
			continue
		}
		switch string(seg.ID()) {
		case "ISA":
			sender := strings.TrimSpace(seg.ElementString(6))
			ours = sender == tp.Interchange.SenderID || (tp.Plan.TIN != "" && strings.HasPrefix(sender, tp.Plan.TIN))
			if !ours {
				continue
			}
			if got := strings.TrimSpace(seg.ElementString(8)); got != tp.Interchange.ReceiverID {
				bad("ISA08", "receiver %q, want %q (the profile's interchange.receiver_id)", got, tp.Interchange.ReceiverID)
			}
			if len(hcps) > 0 && tp.Plan.TIN != "" {
				if len(sender) != 12 || sender[:9] != tp.Plan.TIN || !slices.Contains(hcps, sender[9:]) {
					bad("ISA06", "sender %q, want the plan TIN %s followed by one of its HCP codes %s", sender, tp.Plan.TIN, strings.Join(hcps, ", "))
				} else {
					fileHCP = sender[9:]
				}
			}
		case "GS":
			if got := seg.ElementString(3); got != tp.Group.ReceiverCode {
				bad("GS03", "receiver %q, want %q (the profile's group.receiver_code)", got, tp.Group.ReceiverCode)
			}
			if tp.Plan.TIN != "" && len(hcps) > 0 && seg.ElementString(2) != tp.Plan.TIN {
				bad("GS02", "sender %q, want the plan TIN %s", seg.ElementString(2), tp.Plan.TIN)
			}
		case "NM1":
			if seg.ElementString(1) == "40" && seg.ElementString(9) != tp.Receiver.ID {
				bad("1000B NM109", "receiver ID %q, want %q (the profile's receiver.id)", seg.ElementString(9), tp.Receiver.ID)
			}
		case "CLM":
			if len(hcps) == 0 {
				continue
			}
			clm := seg.ElementString(1)
			hcp := ""
			if len(clm) >= 3 {
				hcp = clm[:3]
			}
			switch {
			case !slices.Contains(hcps, hcp):
				bad("CLM01", "claim %q does not start with one of the plan's HCP codes %s", clm, strings.Join(hcps, ", "))
			case fileHCP == "":
				fileHCP = hcp
			case hcp != fileHCP:
				bad("CLM01", "claim %q is for HCP code %s in a file for HCP code %s: DHCS takes one file per HCP code", clm, hcp, fileHCP)
			}
		}
	}
	return problems, nil
}
