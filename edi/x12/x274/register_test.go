package x274_test

import (
	"fmt"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/edi/x12/ig"
	"github.com/calaim-gateway/calaim-gateway/edi/x12/x274"
)

// TestImportChangesNoRegistry checks that this package, imported (as it is
// here), has added the 274 to no registry: ig.Default, ig.Lookup and a new
// registry know only the generated tables until Register is called, and
// Register adds it to the registry given and no other.
func TestImportChangesNoRegistry(t *testing.T) {
	generated := [][2]string{{"005010X222A1", "837"}, {"005010X220A1", "834"}, {"005010X231A1", "999"}, {"005010X214", "277"}}
	for _, k := range generated {
		if ig.Default().Lookup(k[0], k[1]) == nil {
			t.Errorf("ig.Default() lacks the generated %s %s", k[1], k[0])
		}
	}
	if s := ig.Lookup(x274.Version, x274.SetID); s != nil {
		t.Errorf("ig.Lookup(274) = %q, want nil: importing x274 registered it", s.Name)
	}
	if s := ig.Default().Lookup(x274.Version, x274.SetID); s != nil {
		t.Errorf("ig.Default() holds the 274 (%q)", s.Name)
	}
	if s := ig.NewRegistry().Lookup(x274.Version, x274.SetID); s != nil {
		t.Errorf("ig.NewRegistry() holds the 274 (%q)", s.Name)
	}

	// Register defers compiling the table to its first set: it must compile.
	if err := ig.NewRegistry().Register(x274.Spec274()); err != nil {
		t.Fatalf("the 274 table does not compile: %v", err)
	}
	r := ig.NewRegistry()
	if err := x274.Register(r); err != nil {
		t.Fatal(err)
	}
	if r.Lookup(x274.Version, x274.SetID) != x274.Spec274() {
		t.Error("Register did not add Spec274 to the registry given")
	}
	if ig.Default().Lookup(x274.Version, x274.SetID) != nil || ig.NewRegistry().Lookup(x274.Version, x274.SetID) != nil {
		t.Error("Register on one registry added the 274 to another")
	}
	if err := x274.Register(ig.Default()); err == nil {
		t.Error("Register(ig.Default()) succeeded: the shared registry changed")
	}
	if ig.Default().Lookup(x274.Version, x274.SetID) != nil {
		t.Error("Register(ig.Default()) failed but left the 274 in it")
	}
}

func ExampleRegister() {
	r := ig.NewRegistry() // the generated tables: 837P, 834, 999, 277CA
	if err := x274.Register(r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Lookup(x274.Version, x274.SetID).SetID, ig.Default().Lookup(x274.Version, x274.SetID) == nil)
	// Output: 274 true
}
