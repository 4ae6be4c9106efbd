// Command gen834 writes a large, realistic DHCS-style 834 enrollment file
// (005010X220A1) for benchmarks; see package gen834. The same flags give the
// same bytes. Large files are generated, never committed.
//
//	go run ./internal/tools/gen834/cmd/gen834 -members 1000000 -out bench-out/members.834
package main

import (
	"bufio"
	"flag"
	"log"
	"os"

	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
)

func main() {
	var o gen834.Options
	flag.IntVar(&o.Members, "members", 1000000, "member loops to write")
	flag.IntVar(&o.MembersPerSet, "per-set", 0, "members per transaction set (0 = one set)")
	flag.BoolVar(&o.Full, "full", true, "a full (audit) file; false = a change file with adds, changes and terminations")
	flag.BoolVar(&o.Newlines, "newlines", false, "a line feed after each segment")
	flag.BoolVar(&o.CRLF, "crlf", false, "CR LF after each segment")
	flag.Uint64Var(&o.Seed, "seed", 1, "random seed")
	flag.StringVar(&o.BirthDate, "birth-date", "", "every member's date of birth, YYYYMMDD (default: random)")
	out := flag.String("out", "members.834", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n, err := o.WriteTo(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: %d members, %d bytes", *out, o.Members, n)
}
