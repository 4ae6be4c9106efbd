package fixedre

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// Every pattern, fixed-shape or not, answers as regexp does, on inputs
// near its shape: right and wrong lengths, each byte class, lower case,
// non-ASCII and invalid UTF-8.
func TestSameAsRegexp(t *testing.T) {
	for _, c := range []struct {
		pattern string
		fixed   bool
	}{
		{`^[0-9A-Z]{9}$`, true},
		{`^[0-9]{8}[A-Z]$`, true},
		{`^9[0-9]{7}[A-HJ-NP-Z]$`, true},
		{`^(?i)[a-z]{2}[0-9]{3}$`, false}, // the class holds the Kelvin sign and the long s
		{`^(?i)AB[0-9]{3}$`, true},
		{`^(?i:k)[0-9]$`, false}, // folds to the Kelvin sign
		{`^ID-[0-9]{4}$`, true},
		{`^\d{10}$`, true},
		{`^[0-9A-Z]{9}`, false}, // not anchored at the end
		{`[0-9A-Z]{9}$`, false}, // nor at the start
		{`^[0-9A-Z]{8,9}$`, false},
		{`^[^0-9]{3}$`, false}, // a class beyond ASCII
		{`^.{4}$`, false},
		{`^(A|B)[0-9]$`, true}, // Simplify makes it a class
		{`^(AB|CD)[0-9]$`, false},
		{`^$`, false},
	} {
		re := regexp.MustCompile(c.pattern)
		m := Compile(re)
		if m.Fixed() != c.fixed {
			t.Errorf("%s: Fixed() = %v, want %v", c.pattern, m.Fixed(), c.fixed)
		}
		if m.String() != c.pattern {
			t.Errorf("%s: String() = %q", c.pattern, m.String())
		}
		rng := rand.New(rand.NewPCG(1, uint64(len(c.pattern))))
		alphabet := []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_ \x00\xff\xc3\xa9\u212a")
		inputs := []string{"", "12345678A", "123456789", "1234567890", "AB123", "ab123", "Ab123", "\u212a\u017f123", "K5", "k5", "\u212a5", "ID-1234", "A5", "B5", "AB5", "CD5"}
		for range 20000 {
			n := rng.IntN(12)
			b := make([]byte, n)
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			inputs = append(inputs, string(b))
		}
		for _, s := range inputs {
			if got, want := m.MatchString(s), re.MatchString(s); got != want {
				t.Errorf("%s: MatchString(%q) = %v, regexp says %v", c.pattern, s, got, want)
			}
		}
	}
}

func BenchmarkCIN(b *testing.B) {
	re := regexp.MustCompile(`^[0-9A-Z]{9}$`)
	m := Compile(re)
	for _, c := range []struct {
		name  string
		match func(string) bool
	}{{"regexp", re.MatchString}, {"fixedre", m.MatchString}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if !c.match("91234567A") {
					b.Fatal("no match")
				}
			}
		})
	}
}
