package ig

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// A code set answers like a map of its codes, for sets around the size
// where it switches from a linear scan to the hashed table, and for values
// that pack to 0 (empty) or do not pack (too long).
func TestCodeSetMembership(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	code := func() string {
		b := make([]byte, 1+rng.IntN(7))
		for i := range b {
			b[i] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rng.IntN(36)]
		}
		return string(b)
	}
	for _, n := range []int{2, 8, 9, 16, 17, 40, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			want := map[string]bool{}
			var codes []string
			for len(codes) < n {
				c := code()
				if !want[c] {
					want[c] = true
					codes = append(codes, c)
				}
			}
			codes = append(codes, "LONGCODE1") // does not pack
			want["LONGCODE1"] = true
			s := newCodeSet(codes)
			probes := append([]string{"", "LONGCODE2", "12345678"}, codes...)
			for range 2000 {
				probes = append(probes, code())
			}
			for _, v := range probes {
				if got := s.has([]byte(v)); got != want[v] {
					t.Fatalf("has(%q) = %v, want %v", v, got, want[v])
				}
			}
		})
	}
}
