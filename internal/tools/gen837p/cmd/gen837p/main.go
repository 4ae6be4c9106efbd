// Command gen837p writes a large provider 837P (005010X222A1) for the
// inbound 837P benchmarks; see package gen837p.
//
//	go run ./internal/tools/gen837p/cmd/gen837p -claims 330000 -out bench-out/claims.837
package main

import (
	"flag"
	"log"
	"os"

	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen837p"
)

func main() {
	var o gen837p.Options
	flag.IntVar(&o.Claims, "claims", 330000, "claims to write")
	flag.IntVar(&o.PerSet, "per-set", 1000, "claims per transaction set")
	flag.BoolVar(&o.Newlines, "newlines", false, "a line feed after each segment")
	flag.IntVar(&o.Members, "members", 0, "claim k's member is gen834's member k mod N (0: members enrolled nowhere)")
	out := flag.String("out", "claims.837", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := o.WriteTo(f); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
