// Package term tells whether an output is a terminal and how wide it is,
// and wraps text to a width: the printing helpers of the CLI.
package term

import (
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// Width returns the width of the terminal f, or def when f is not a
// terminal (a file, a pipe) or does not say.
func Width(f *os.File, def int) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return def
	}
	return int(ws.Col)
}

// Wrap breaks text into lines of at most width characters, indent
// included (a word longer than that gets a line of its own), each line
// starting with indent.
func Wrap(text string, width int, indent string) string {
	var b strings.Builder
	b.WriteString(indent)
	col := len(indent)
	for i, w := range strings.Fields(text) {
		switch {
		case i == 0:
		case col+1+len(w) > width:
			b.WriteString("\n" + indent)
			col = len(indent)
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	return b.String()
}
