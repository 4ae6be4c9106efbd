package inbound837

import (
	"strconv"
	"strings"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/store"
)

// Encounter is what the encounter line of an accepted claim needs, as
// sent (member data: never log it). Edit fills it with Options.Collect.
type Encounter struct {
	InvoiceDate string // BHT04, CCYYMMDD

	BillingNPI, BillingTIN, BillingName, BillingTaxonomy string // 2010AA NM109, REF*EI, NM103; 2000A PRV03
	BillingStreet, BillingCity, BillingState, BillingZip string // 2010AA N3, N4

	MemberCIN, MemberLast, MemberFirst, MemberDOB, MemberGender string // 2010BA NM109, NM103, NM104, DMG02, DMG03
	MemberStreet, MemberCity, MemberState, MemberZip            string // 2010BA N3, N4

	RenderingNPI, RenderingName string // 2310B NM1*82

	// Dependent is set when the claim is under a 2000C patient level: its
	// patient is not the subscriber 2010BA names.
	Dependent      bool
	PlaceOfService string   // CLM05-1
	Frequency      string   // CLM05-3
	PayerClaim     string   // 2300 REF*F8: of a replacement or void, the plan's claim number of the original (the 277CA's REF*1K)
	Authorization  string   // 2300 REF*G1
	Diagnoses      []string // HI ABK, ABF codes in order
	Lines          []EncounterLine
}

// EncounterLine is one 2400 service line as sent.
type EncounterLine struct {
	Number                      string // LX01
	Line                        int64  // line of the SV1 segment in the input (of the LX until SV1 is read)
	Text                        string // the SV1 segment as sent
	HCPCS                       string // SV101-2
	Modifiers                   []string
	Charge, Units               string // SV102, SV104
	UnitBasis                   string // SV103: UN units or MJ minutes
	PlaceOfService              string // SV105
	Pointers                    []int  // SV107, 1-based into Diagnoses
	From, To                    string // 2400 DTP*472, CCYYMMDD
	Authorization               string // 2400 REF*G1
	RenderingNPI, RenderingName string // 2420A NM1*82

	// Sent is the line as the duplicate check will know it once sent;
	// Pending when levels 6 and 7 accepted it with a duplicate check (not
	// a replacement or void): the line is then recorded as pending with
	// its claim, until it is sent.
	Sent    store.Line
	Pending bool
}

// party is the billing provider or member being read, copied into each
// claim under it.
type party struct {
	bill   [8]string // NPI, TIN, name, taxonomy, street, city, state, ZIP
	member [9]string // CIN, last, first, DOB, gender, street, city, state, ZIP
	dep    bool      // under a 2000C patient level
}

func street(seg *x12.Segment) string {
	s := strings.TrimSpace(string(seg.Element(1)))
	if more := strings.TrimSpace(string(seg.Element(2))); more != "" && len(s)+1+len(more) <= 55 {
		s += " " + more
	}
	return s
}

func personName(seg *x12.Segment) string {
	last, first := string(seg.Element(3)), string(seg.Element(4))
	if string(seg.Element(2)) == "1" && first != "" {
		return last + ", " + first
	}
	return last
}

// collect records what the encounter line needs from seg; it runs after
// Segment opened a claim at CLM.
func (s *scanner) collect(t *ig.Txn, seg *x12.Segment) {
	p := &s.party
	var c *Encounter
	if s.cur >= 0 && s.cur < len(s.r.claims) {
		c = &s.r.claims[s.cur].Enc
	}
	var l *EncounterLine
	if c != nil && len(c.Lines) > 0 && t.Loop() >= "2400" {
		l = &c.Lines[len(c.Lines)-1]
	}
	loop := t.Loop()
	switch string(seg.ID()) {
	case "BHT":
		s.bht04 = string(seg.Element(4))
	case "HL":
		switch string(seg.Element(3)) {
		case "20":
			p.bill, p.dep = [8]string{}, false
		case "22":
			p.member, p.dep = [9]string{}, false
		case "23":
			p.dep = true
		}
	case "PRV":
		if loop == "2000A" && string(seg.Element(1)) == "BI" {
			p.bill[3] = string(seg.Element(3))
		}
	case "NM1":
		switch {
		case loop == "2010AA":
			p.bill[0], p.bill[2] = string(seg.Element(9)), string(seg.Element(3))
		case loop == "2010BA":
			p.member[0], p.member[1], p.member[2] = string(seg.Element(9)), string(seg.Element(3)), string(seg.Element(4))
		case loop == "2310B" && c != nil:
			c.RenderingNPI, c.RenderingName = string(seg.Element(9)), personName(seg)
		case loop == "2420A" && l != nil:
			l.RenderingNPI, l.RenderingName = string(seg.Element(9)), personName(seg)
		}
	case "N3":
		switch loop {
		case "2010AA":
			p.bill[4] = street(seg)
		case "2010BA":
			p.member[5] = street(seg)
		}
	case "N4":
		v := [3]string{string(seg.Element(1)), string(seg.Element(2)), string(seg.Element(3))}
		switch loop {
		case "2010AA":
			copy(p.bill[5:], v[:])
		case "2010BA":
			copy(p.member[6:], v[:])
		}
	case "REF":
		switch q := string(seg.Element(1)); {
		case loop == "2010AA" && q == "EI":
			p.bill[1] = string(seg.Element(2))
		case loop == "2300" && q == "G1" && c != nil:
			c.Authorization = string(seg.Element(2))
		case loop == "2300" && q == "F8" && c != nil:
			c.PayerClaim = string(seg.Element(2))
		case loop == "2400" && q == "G1" && l != nil:
			l.Authorization = string(seg.Element(2))
		}
	case "DMG":
		if loop == "2010BA" {
			p.member[3], p.member[4] = string(seg.Element(2)), string(seg.Element(3))
		}
	case "CLM":
		if c != nil {
			*c = Encounter{InvoiceDate: s.bht04,
				BillingNPI: p.bill[0], BillingTIN: p.bill[1], BillingName: p.bill[2], BillingTaxonomy: p.bill[3],
				BillingStreet: p.bill[4], BillingCity: p.bill[5], BillingState: p.bill[6], BillingZip: p.bill[7],
				MemberCIN: p.member[0], MemberLast: p.member[1], MemberFirst: p.member[2], MemberDOB: p.member[3], MemberGender: p.member[4],
				MemberStreet: p.member[5], MemberCity: p.member[6], MemberState: p.member[7], MemberZip: p.member[8], Dependent: p.dep,
				PlaceOfService: string(seg.Component(5, 1)), Frequency: string(seg.Component(5, 3))}
		}
	case "HI":
		if c != nil && loop == "2300" {
			for i := 1; i <= seg.Len(); i++ {
				if q := string(seg.Component(i, 1)); q == "ABK" || q == "ABF" {
					c.Diagnoses = append(c.Diagnoses, string(seg.Component(i, 2)))
				}
			}
		}
	case "LX":
		if c != nil && loop == "2400" {
			c.Lines = append(c.Lines, EncounterLine{Number: string(seg.Element(1)), Line: t.Pos().Line})
		}
	case "SV1":
		if l != nil {
			l.Line, l.Text = t.Pos().Line, string(seg.Bytes())
			l.HCPCS = string(seg.Component(1, 2))
			for k := 3; k <= 6; k++ {
				if m := string(seg.Component(1, k)); m != "" {
					l.Modifiers = append(l.Modifiers, m)
				}
			}
			l.Charge, l.UnitBasis, l.Units, l.PlaceOfService = string(seg.Element(2)), string(seg.Element(3)), string(seg.Element(4)), string(seg.Element(5))
			for k := 1; k <= 4; k++ {
				// An empty pointer (most are) is skipped before Atoi, whose
				// error would be an allocation.
				if b := seg.Component(7, k); len(b) > 0 {
					if n, err := strconv.Atoi(string(b)); err == nil {
						l.Pointers = append(l.Pointers, n)
					}
				}
			}
		}
	case "DTP":
		if l != nil && loop == "2400" && string(seg.Element(1)) == "472" {
			from, to := string(seg.Element(3)), string(seg.Element(3))
			if string(seg.Element(2)) == "RD8" && len(from) == 17 {
				from, to = from[:8], from[9:]
			}
			l.From, l.To = from, to
		}
	}
}
