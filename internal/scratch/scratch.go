// Package scratch makes the temporary files that hold work in progress
// (spools, spilled indexes): each is unlinked as soon as it is created, so
// it lives exactly as long as it is open and nothing is left behind, not
// even when the process is killed.
package scratch

import (
	"fmt"
	"os"
)

// File creates a temporary file in dir (the system's temporary directory
// when dir is "") named by pattern as os.CreateTemp names it, and removes
// the name at once: closing the file frees it.
func File(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("scratch file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("scratch file: %w", err)
	}
	return f, nil
}
