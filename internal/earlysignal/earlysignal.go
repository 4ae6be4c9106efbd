// Package earlysignal starts catching SIGINT and SIGTERM while the program
// is still initialising, so that a signal sent in its first milliseconds is
// kept for the command to handle (the daemon's SIGTERM is a clean stop)
// instead of killing the process. It has no dependencies beyond the
// standard library's os/signal, so it is initialised before the module's
// other packages.
package earlysignal

import (
	"os"
	"os/signal"
	"syscall"
)

// caught receives SIGINT and SIGTERM from the moment the package is
// initialised.
var caught = notify()

func notify() chan os.Signal {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	return c
}

// Signals returns the channel the signals arrive on (one is buffered).
// Stop it with signal.Stop when done.
func Signals() chan os.Signal { return caught }
