// Package gen837p writes a large provider 837P (005010X222A1) for
// benchmarks of the inbound 837P edit: one interchange, one group,
// transaction sets of at most 1000 claims, one member and one claim of
// one service line per subscriber loop, each member and date of service
// different so that no line repeats another. The same options give the
// same bytes. Large files are generated, never committed.
package gen837p

import (
	"bufio"
	"fmt"
	"io"

	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
)

// Options size the file.
type Options struct {
	Claims    int // claims in the file
	PerSet    int // claims per transaction set; 0 = 1000
	Newlines  bool
	Submitter string // ISA06 and GS02; "" = PROVIDERSYS
	// Members, when above 0, makes claim k's member gen834's member
	// k mod Members (its CIN, and BirthDate, which a gen834 file made with
	// BirthDate has too), so that the claims can be judged against that
	// 834. Member and date of service stay different for every claim
	// while Claims is below the least common multiple of Members and 280
	// (the dates cycle every 280 claims): a Members prime to 280, such as
	// 99,991, keeps them different up to 27,997,480 claims.
	// 0: member k of its own, 9%07dA, enrolled nowhere.
	Members int
}

// BirthDate is every member's date of birth in the claims (DMG02).
const BirthDate = "19671130"

// WriteTo writes the file to w.
func (o Options) WriteTo(w io.Writer) (int64, error) {
	per := o.PerSet
	if per <= 0 {
		per = 1000
	}
	sender := o.Submitter
	if sender == "" {
		sender = "PROVIDERSYS"
	}
	cw := &countWriter{w: bufio.NewWriterSize(w, 1<<20)}
	nl := ""
	if o.Newlines {
		nl = "\n"
	}
	seg := func(s string) { cw.WriteString(s + "~" + nl) }
	seg(fmt.Sprintf("ISA*00*          *00*          *ZZ*%-15s*ZZ*%-15s*260115*1200*^*00501*000000101*0*P*:", sender, "PLANRECEIVER"))
	seg("GS*HC*" + sender + "*PLANRECEIVER*20260115*1200*101*X*005010X222A1")
	sets := 0
	for k := 0; k < o.Claims; {
		sets++
		ctl := fmt.Sprintf("%04d", sets)
		n := 0
		s := func(v string) { seg(v); n++ }
		s("ST*837*" + ctl + "*005010X222A1")
		s("BHT*0019*00*B" + ctl + "*20260115*1200*CH")
		s("NM1*41*2*HARBOR BILLING*****46*HB001")
		s("PER*IC*EDI SUPPORT*TE*9165550100")
		s("NM1*40*2*SUNRISE HEALTH PLAN*****46*SHP001")
		s("HL*1**20*1")
		s("PRV*BI*PXC*251S00000X")
		s("NM1*85*2*HARBOR COMMUNITY SUPPORTS*****XX*1234567893")
		s("N3*100 CAPITOL MALL STE 200")
		s("N4*SACRAMENTO*CA*958140001")
		s("REF*EI*941234567")
		for m := 0; m < per && k < o.Claims; m, k = m+1, k+1 {
			day := 1 + k%28
			month := 1 + (k/28)%10
			s(fmt.Sprintf("HL*%d*1*22*0", 2+m))
			s("SBR*P*18*******MC")
			member := fmt.Sprintf("9%07dA", k%10000000)
			if o.Members > 0 {
				member = gen834.Options{}.CIN(k % o.Members)
			}
			s("NM1*IL*1*MEMBER*PAT****MI*" + member)
			s("N3*45 ELM ST")
			s("N4*WEST SACRAMENTO*CA*95691")
			s("DMG*D8*" + BirthDate + "*M")
			s("NM1*PR*2*SUNRISE HEALTH PLAN*****PI*SHP01")
			s(fmt.Sprintf("CLM*C%d*75.5***12:B:1*Y*A*Y*Y", k))
			s("HI*ABK:Z5900")
			s("LX*1")
			s("SV1*HC:T1016:U8*75.5*UN*3***1")
			s(fmt.Sprintf("DTP*472*D8*2026%02d%02d", month, day))
		}
		seg(fmt.Sprintf("SE*%d*%s", n+1, ctl))
	}
	seg(fmt.Sprintf("GE*%d*101", sets))
	seg("IEA*1*000000101")
	if err := cw.w.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, cw.err
}

type countWriter struct {
	w   *bufio.Writer
	n   int64
	err error
}

func (c *countWriter) WriteString(s string) {
	if c.err != nil {
		return
	}
	n, err := c.w.WriteString(s)
	c.n += int64(n)
	c.err = err
}
