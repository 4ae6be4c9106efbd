// Command schemadoc writes the data dictionary of the monthly monitoring
// JSON (docs/monitoring-json.md) from the embedded schemas:
//
//	go run ./internal/tools/schemadoc -out docs/monitoring-json.md
//
// (`make schemas-doc`). TestDictionaryIsCurrent fails when the committed
// file differs from what the schemas give.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/calaim-gateway/calaim-gateway/internal/atomicfile"
)

func main() {
	out := flag.String("out", "docs/monitoring-json.md", "the data dictionary to write")
	flag.Parse()
	doc, err := Render()
	if err == nil {
		err = atomicfile.WriteFile(*out, doc)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "schemadoc:", err)
		os.Exit(1)
	}
}
