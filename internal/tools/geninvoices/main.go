// Command geninvoices writes a large, realistic invoice CSV for benchmarks:
// many providers and members, every line a valid ECM/CS service, invoices of
// one to six lines, no duplicates. The same flags give the same file.
//
//	go run ./internal/tools/geninvoices -lines 1000000 -out bench-out/invoices.csv
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
)

func main() {
	lines := flag.Int("lines", 1000000, "invoice lines to write")
	out := flag.String("out", "invoices.csv", "output file")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if err := write(*out, *lines, *seed); err != nil {
		log.Fatal(err)
	}
}

// Valid NPIs (check digit computed) for the generated providers.
func npi(i int) string {
	base := fmt.Sprintf("1%08d", 10000000+i)
	sum, double := 24, true
	for j := len(base) - 1; j >= 0; j-- {
		d := int(base[j] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return base + fmt.Sprint((10-sum%10)%10)
}

var codes = []struct{ hcpcs, mods, charge string }{
	{"G9008", "U1", "450.00"}, {"G9012", "U8", "0"}, {"H0043", "U6", "85.00"}, {"H0044", "U2", "1500.00"},
	{"T2040", "U6", "35.00"}, {"T2033", "U6", "200.00"}, {"S5170", "U6", "14.00"}, {"T1019", "U6", "25.00"},
	{"S5165", "U5", "900.00"}, {"H0014", "U6", "300.00"}, {"T1016", "U8 GQ", "0"}, {"S9977", "U7", "40.00"},
}

var cities = []struct{ city, zip string }{
	{"Los Angeles", "900124801"}, {"San Francisco", "941031520"}, {"Fresno", "937061234"},
	{"Sacramento", "958141234"}, {"San Diego", "921011234"}, {"Oakland", "946121234"},
}

func write(path string, n int, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(seed, 42))
	fmt.Fprintln(w, "invoice_number,line_number,invoice_date,billing_npi,billing_tin,billing_name,billing_address,billing_city,billing_state,billing_zip,member_cin,member_last_name,member_first_name,member_dob,member_gender,service_from,service_to,hcpcs,modifiers,units,charge_amount,place_of_service,diagnosis,member_address,member_city,member_state,member_zip")
	const providers = 500
	written, inv := 0, 0
	for written < n {
		inv++
		p := r.IntN(providers)
		c := cities[p%len(cities)]
		member := inv // a new member per invoice keeps every line distinct
		linesIn := 1 + r.IntN(6)
		for l := 1; l <= linesIn && written < n; l++ {
			code := codes[r.IntN(len(codes))]
			month := 1 + (l+inv)%9
			day := 1 + l*3
			fmt.Fprintf(w, "INV-%07d,%d,2026-10-01,%s,%09d,Provider %d Community Services,%d Main St,%s,CA,%s,%08dA,Last%d,First%d,19%02d-%02d-%02d,%s,2026-%02d-%02d,2026-%02d-%02d,%s,%s,%d,%s,12,Z5901,%d Elm St,%s,CA,%s\n",
				inv, l, npi(p), 900000000+p, p, 100+p, c.city, c.zip, member, member, member,
				40+member%60, 1+member%12, 1+member%28, []string{"F", "M", "U"}[member%3],
				month, day, month, day, code.hcpcs, code.mods, 1+r.IntN(4), code.charge, member%9000+1, c.city, c.zip)
			written++
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
