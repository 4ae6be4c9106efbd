// Package gen834 writes realistic DHCS-style 834 enrollment files
// (005010X220A1) for tests and benchmarks: one member per INS loop with the
// DHCS composite REFs (REF*3H county;aid code;case number, REF*17, REF*DX
// D-SNP contract;PBP;start, REF*RB and REF*CE aid codes in the coverage
// loop), families (dependents under a subscriber's REF*0F), share of cost
// (AMT*R), terminations in change files. Every name, CIN, date and number
// is made up. The same options give the same bytes. Large files are
// generated, never committed: see the gen834 command.
package gen834

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// Options describe a generated file.
type Options struct {
	Members       int    // INS loops
	MembersPerSet int    // members per ST..SE (0 = all in one transaction set)
	Full          bool   // a full (audit) file: BGN08 RX, INS03/HD01 030; else a change file (021/001/024)
	PlanCode      string // HD04 health-plan code (default "010")
	Start         time.Time
	Newlines      bool // a line feed after each segment terminator
	CRLF          bool // CR LF after each segment terminator (overrides Newlines)
	Delimiters    x12.Delimiters
	Seed          uint64
	FirstCIN      int // number of the first member's CIN (default 10000000)
	// BirthDate, as YYYYMMDD, is every member's date of birth; "" gives
	// each a random one. A fixed date lets another generator's claims
	// (gen837p with Members) match the members' 834 data.
	BirthDate string
}

var (
	lastNames  = []string{"RIVERA", "NGUYEN", "GARCIA", "SMITH", "JOHNSON", "LOPEZ", "KIM", "PATEL", "WASHINGTON", "OKAFOR", "HERNANDEZ", "TRAN", "CHEN", "BROWN", "DIAZ", "ADAMS"}
	firstNames = []string{"ANA", "BAO", "CARLOS", "DANA", "ELENA", "FRANK", "GRACE", "HUGO", "IRIS", "JAMAL", "KAREN", "LUIS", "MEI", "NOAH", "OLGA", "PEDRO"}
	streets    = []string{"OAK AVE", "ELM ST", "CAPITOL MALL", "J ST", "FRANKLIN BLVD", "BROADWAY", "STOCKTON BLVD", "MAIN ST", "MISSION ST", "SPRING ST"}
	places     = []struct{ city, zip, county string }{
		{"SACRAMENTO", "95815", "34"}, {"WEST SACRAMENTO", "95691", "57"}, {"FRESNO", "93721", "10"}, {"OAKLAND", "94612", "01"},
		{"LOS ANGELES", "90012", "19"}, {"SAN DIEGO", "92101", "37"}, {"SAN FRANCISCO", "94103", "38"}, {"SAN JOSE", "95113", "43"},
	}
	aidCodes  = []string{"1H", "M1", "L1", "38", "60", "3N", "7U", "P1", "10", "4M", "45", "1E"}
	languages = []string{"ENG", "SPA", "VIE", "CHI", "TAG", "KOR"}
)

// CIN returns the CIN of member number i (0-based) for opts.
func (o Options) CIN(i int) string {
	first := o.FirstCIN
	if first == 0 {
		first = 10000000
	}
	return strconv.Itoa(first+i) + string(rune('A'+i%26))
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// WriteTo writes the file to w and returns the bytes written.
func (o Options) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	d := o.Delimiters
	if d == (x12.Delimiters{}) {
		d = x12.DefaultDelimiters
	}
	var opts []x12.WriterOption
	if o.Newlines || o.CRLF {
		opts = append(opts, x12.WithNewlines())
	}
	var out io.Writer = cw
	if o.CRLF {
		out = &crlfWriter{w: cw}
	}
	xw := x12.NewWriter(out, d, opts...)
	start := o.Start
	if start.IsZero() {
		start = time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)
	}
	plan := o.PlanCode
	if plan == "" {
		plan = "010"
	}
	per := o.MembersPerSet
	if per <= 0 {
		per = o.Members
	}
	rng := rand.New(rand.NewPCG(o.Seed, 834))
	xw.BeginInterchange(x12.InterchangeHeader{SenderQualifier: "ZZ", SenderID: "CADHCS_5010_834", ReceiverQualifier: "30",
		ReceiverID: "941234567", Date: start, ControlNumber: 1000 + int64(o.Seed%1000), Usage: "T"})
	xw.BeginGroup(x12.GroupHeader{FunctionalID: "BE", SenderCode: "CADHCS_5010_834", ReceiverCode: "941234567", Date: start,
		ControlNumber: 1000 + int64(o.Seed%1000), Version: "005010X220A1"})
	day := start.Format("20060102")
	kind, action, mt := "DA", "2", "021"
	if o.Full {
		kind, action, mt = "MA", "RX", "030"
	}
	set := 0
	i := 0
	subscriber := "" // a dependent's subscriber (the previous subscriber, even across sets)
	for i < o.Members || (i == 0 && set == 0) {
		set++
		xw.BeginTransaction("834", int64(set), "005010X220A1")
		xw.Segment("BGN", "00", fmt.Sprintf("DHCS834-%s-%s-SUNRISE HEALTH-%s-%03d", kind, day, plan, set), day, "0500", "", "", "", action)
		if o.Full {
			xw.Segment("DTP", "007", "D8", day)
		}
		n := min(per, o.Members-i)
		xw.Segment("QTY", "TO", strconv.Itoa(n))
		xw.Segment("N1", "P5", "CALIFORNIA DEPARTMENT OF HEALTH CARE SERVICES", "FI", "946000001")
		xw.Segment("N1", "IN", "SUNRISE HEALTH PLAN", "FI", "941234567")
		for k := 0; k < n; k, i = k+1, i+1 {
			cin := o.CIN(i)
			// About one member in eight is a dependent of the previous subscriber.
			dependent := subscriber != "" && rng.IntN(8) == 0
			if !dependent {
				subscriber = cin
			}
			m := mt
			if !o.Full {
				switch r := rng.IntN(20); {
				case r == 0:
					m = "024"
				case r < 4:
					m = "001"
				}
			}
			rel, ins1 := "18", "Y"
			if dependent {
				rel, ins1 = "19", "N"
			}
			xw.Segment("INS", ins1, rel, m, "AI", "A", "", "", "AC")
			xw.Segment("REF", "0F", subscriber)
			xw.Segment("REF", "1L", cin)
			p := places[rng.IntN(len(places))]
			aid := aidCodes[rng.IntN(len(aidCodes))]
			xw.Segment("REF", "17", fmt.Sprintf("%s;;%s", start.AddDate(0, 6+rng.IntN(6), 0).Format("200601"), start.Format("200601")))
			xw.Segment("REF", "3H", fmt.Sprintf("%s;%s;%07d", p.county, aid, 1000000+rng.IntN(9000000)))
			dsnp := rng.IntN(25) == 0
			if dsnp {
				xw.Segment("REF", "DX", fmt.Sprintf("H%04d;%03d;%s", 1000+rng.IntN(9000), 1+rng.IntN(30), start.AddDate(-1, 0, 0).Format("20060102")))
				xw.Segment("REF", "F6", fmt.Sprintf("%dAB%dCD%dEF%02d", 1+rng.IntN(9), rng.IntN(10), rng.IntN(10), rng.IntN(100)))
			}
			xw.Segment("DTP", "356", "D8", day)
			last, first := lastNames[rng.IntN(len(lastNames))], firstNames[rng.IntN(len(firstNames))]
			xw.Segment("NM1", "IL", "1", last, first, string(rune('A'+rng.IntN(26))), "", "", "ZZ", cin)
			xw.Segment("PER", "IP", "", "TE", fmt.Sprintf("916555%04d", rng.IntN(10000)))
			xw.Segment("N3", fmt.Sprintf("%d %s", 100+rng.IntN(9800), streets[rng.IntN(len(streets))]))
			xw.Segment("N4", p.city, "CA", p.zip, "", "CY", p.county)
			age := 1 + rng.IntN(89)
			if dependent {
				age = rng.IntN(18)
			}
			dob := start.AddDate(-age, -rng.IntN(12), -rng.IntN(28))
			gender := "F"
			if rng.IntN(2) == 0 {
				gender = "M"
			}
			birth := dob.Format("20060102")
			if o.BirthDate != "" {
				birth = o.BirthDate
			}
			xw.Segment("DMG", "D8", birth, gender)
			xw.Segment("LUI", "LD", languages[rng.IntN(len(languages))], "", "7")
			xw.Segment("HD", m, "", "LTC", plan+";01", "IND")
			from := start.AddDate(0, -rng.IntN(24), 0)
			from = time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
			xw.Segment("DTP", "348", "D8", from.Format("20060102"))
			if m == "024" {
				xw.Segment("DTP", "349", "D8", start.AddDate(0, 0, -1).Format("20060102"))
			} else if rng.IntN(3) == 0 {
				xw.Segment("DTP", "349", "D8", start.AddDate(1, 0, -1).Format("20060102"))
			}
			if rng.IntN(40) == 0 {
				xw.Segment("AMT", "R", strconv.Itoa(25*(1+rng.IntN(60))))
			}
			xw.Segment("REF", "RB", aid)
			xw.Segment("REF", "CE", fmt.Sprintf("%s;401;80;401", aid))
			xw.Segment("REF", "ZX", p.county)
		}
		xw.EndTransaction()
		if i >= o.Members {
			break
		}
	}
	xw.EndGroup()
	if err := xw.EndInterchange(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

// crlfWriter turns each LF into CR LF.
type crlfWriter struct{ w io.Writer }

func (c *crlfWriter) Write(p []byte) (int, error) {
	start := 0
	for i, b := range p {
		if b == '\n' {
			if _, err := c.w.Write(p[start:i]); err != nil {
				return 0, err
			}
			if _, err := c.w.Write([]byte{'\r', '\n'}); err != nil {
				return 0, err
			}
			start = i + 1
		}
	}
	if _, err := c.w.Write(p[start:]); err != nil {
		return 0, err
	}
	return len(p), nil
}
