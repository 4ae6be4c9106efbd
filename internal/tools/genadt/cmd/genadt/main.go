// Command genadt writes an HL7 v2 ADT batch file for benchmarks.
package main

import (
	"flag"
	"log"
	"os"

	"github.com/calaim-gateway/calaim-gateway/internal/tools/gen834"
	"github.com/calaim-gateway/calaim-gateway/internal/tools/genadt"
)

func main() {
	n := flag.Int("messages", 10000, "messages")
	members := flag.Int("members", 10000, "members of gen834's numbering the messages name")
	out := flag.String("out", "adt.hl7", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := genadt.Write(f, *n, *members, gen834.Options{}); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
