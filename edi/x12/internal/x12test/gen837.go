// Package x12test makes realistic X12 test input for tests and benchmarks.
// Large inputs are generated, never committed.
package x12test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/calaim-gateway/calaim-gateway/edi/x12"
)

// Gen837P describes a generated 837P (005010X222A1) encounter file: one
// interchange and one functional group, a transaction set per ClaimsPerSet
// claims. Every claim carries its own billing provider (2000A, 2010AA),
// subscriber (2000B, 2010BA, 2010BB), claim (2300 CLM, HI) and one to three
// service lines (2400 LX, SV1, DTP*472, REF*6R). Names, IDs, codes and
// amounts vary from claim to claim; all of it is made up.
type Gen837P struct {
	Claims       int
	ClaimsPerSet int  // default 5000
	Newlines     bool // a line feed after each segment terminator
	Delimiters   x12.Delimiters
	Seed         uint64
}

var (
	lastNames  = []string{"RIVERA", "NGUYEN", "GARCIA", "SMITH", "JOHNSON", "LOPEZ", "KIM", "PATEL", "WASHINGTON", "OKAFOR", "HERNANDEZ", "TRAN"}
	firstNames = []string{"ANA", "BAO", "CARLOS", "DANA", "ELENA", "FRANK", "GRACE", "HUGO", "IRIS", "JAMAL", "KAREN", "LUIS"}
	streets    = []string{"OAK AVE", "ELM ST", "CAPITOL MALL", "J ST", "FRANKLIN BLVD", "BROADWAY", "STOCKTON BLVD", "MAIN ST"}
	cities     = []struct{ city, zip string }{{"SACRAMENTO", "95815"}, {"WEST SACRAMENTO", "95691"}, {"FRESNO", "93721"}, {"OAKLAND", "94612"}, {"LOS ANGELES", "90012"}, {"SAN DIEGO", "92101"}}
	providers  = []string{"HARBOR COMMUNITY SUPPORTS", "VALLEY ECM PARTNERS", "BRIDGE HOUSING SERVICES", "GOLDEN STATE CARE COORDINATION"}
	npis       = []string{"1234567893", "1245319599", "1356420685", "1467531778"} // valid check digits, made up
	procedures = []struct{ code, mod string }{{"G9008", "U1"}, {"G9012", ""}, {"T2040", "U6"}, {"T1016", "U8"}, {"H2016", "U2"}, {"T2041", ""}}
	diagnoses  = []string{"Z590", "Z5941", "Z5900", "Z591", "Z600", "F329"}
)

// WriteTo writes the file to w.
func (g Gen837P) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	d := g.Delimiters
	if d == (x12.Delimiters{}) {
		d = x12.DefaultDelimiters
	}
	per := g.ClaimsPerSet
	if per <= 0 {
		per = 5000
	}
	var opts []x12.WriterOption
	if g.Newlines {
		opts = append(opts, x12.WithNewlines())
	}
	xw := x12.NewWriter(cw, d, opts...)
	rng := rand.New(rand.NewPCG(g.Seed, 837))
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	xw.BeginInterchange(x12.InterchangeHeader{SenderQualifier: "ZZ", SenderID: "CALAIMGW", ReceiverQualifier: "ZZ",
		ReceiverID: "DHCSENC", Date: now, ControlNumber: 101, Usage: "T"})
	xw.BeginGroup(x12.GroupHeader{FunctionalID: "HC", SenderCode: "CALAIMGW", ReceiverCode: "DHCSENC", Date: now, ControlNumber: 101, Version: "005010X222A1"})
	set := int64(0)
	for c := 0; c < g.Claims; c++ {
		if c%per == 0 {
			if c > 0 {
				xw.EndTransaction()
			}
			set++
			xw.BeginTransaction("837", set, "005010X222A1")
			xw.Segment("BHT", "0019", "00", "ENC"+strconv.FormatInt(set, 10), "20260115", "1200", "RP")
			xw.Segment("NM1", "41", "2", "SUNRISE HEALTH PLAN", "", "", "", "", "46", "SHP001")
			xw.Segment("PER", "IC", "EDI SUPPORT", "TE", "9165550100")
			xw.Segment("NM1", "40", "2", "DHCS ENCOUNTERS", "", "", "", "", "46", "DHCSENC")
		}
		hl := 2*(c%per) + 1
		p := rng.IntN(len(providers))
		xw.Segment("HL", strconv.Itoa(hl), "", "20", "1")
		xw.Segment("NM1", "85", "2", providers[p], "", "", "", "", "XX", npis[p])
		xw.Segment("N3", fmt.Sprintf("%d %s", 100+rng.IntN(9000), streets[rng.IntN(len(streets))]))
		city := cities[rng.IntN(len(cities))]
		xw.Segment("N4", city.city, "CA", city.zip+"0001")
		xw.Segment("REF", "EI", fmt.Sprintf("94%07d", rng.IntN(10000000)))
		xw.Segment("HL", strconv.Itoa(hl+1), strconv.Itoa(hl), "22", "0")
		xw.Segment("SBR", "P", "18", "", "", "", "", "", "", "MC")
		cin := fmt.Sprintf("9%07d%c", rng.IntN(10000000), 'A'+rune(rng.IntN(26)))
		xw.Segment("NM1", "IL", "1", lastNames[rng.IntN(len(lastNames))], firstNames[rng.IntN(len(firstNames))], "", "", "", "MI", cin)
		xw.Segment("N3", fmt.Sprintf("%d %s", 1+rng.IntN(9999), streets[rng.IntN(len(streets))]))
		city = cities[rng.IntN(len(cities))]
		xw.Segment("N4", city.city, "CA", city.zip)
		xw.Segment("DMG", "D8", fmt.Sprintf("19%02d%02d%02d", 30+rng.IntN(70), 1+rng.IntN(12), 1+rng.IntN(28)), []string{"F", "M"}[rng.IntN(2)])
		xw.Segment("NM1", "PR", "2", "SUNRISE HEALTH PLAN", "", "", "", "", "PI", "SHP01")
		lines := 1 + rng.IntN(3)
		charges := make([]int, lines)
		total := 0
		for i := range charges {
			charges[i] = 2500 + rng.IntN(40000) // cents
			total += charges[i]
		}
		claimID := fmt.Sprintf("ENC%08d", c+1)
		xw.Segment("CLM", claimID, cents(total), "", "", xw.Composite("11", "B", "1"), "Y", "A", "Y", "Y")
		xw.Segment("HI", xw.Composite("ABK", diagnoses[rng.IntN(len(diagnoses))]))
		for i, amt := range charges {
			pr := procedures[rng.IntN(len(procedures))]
			xw.Segment("LX", strconv.Itoa(i+1))
			xw.Segment("SV1", xw.Composite("HC", pr.code, pr.mod), cents(amt), "UN", strconv.Itoa(1+rng.IntN(8)), "", "", "1")
			xw.Segment("DTP", "472", "D8", fmt.Sprintf("202601%02d", 1+rng.IntN(28)))
			xw.Segment("REF", "6R", fmt.Sprintf("%s-%d", claimID, i+1))
		}
	}
	if g.Claims > 0 {
		xw.EndTransaction()
	}
	xw.EndGroup()
	err := xw.EndInterchange()
	return cw.n, err
}

func cents(c int) string {
	if c%100 == 0 {
		return strconv.Itoa(c / 100)
	}
	return fmt.Sprintf("%d.%02d", c/100, c%100)
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
