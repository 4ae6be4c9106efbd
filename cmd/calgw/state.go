package main

import (
	"context"
	"fmt"

	"github.com/calaim-gateway/calaim-gateway/store"
)

// openState locks the state directory for this process and opens its
// SQLite store; closeState closes the store and releases the lock.
func openState(ctx context.Context, dir string) (st *store.SQLite, closeState func(), err error) {
	unlock, err := store.LockDir(dir)
	if err != nil {
		return nil, nil, err
	}
	st, err = store.OpenSQLite(ctx, dir)
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return st, func() { st.Close(); unlock() }, nil
}

// fail prints err as the command's error and returns the exit code for an
// unusable command line, configuration or state.
func (g *globals) fail(err error) int {
	fmt.Fprintf(g.stderr, "calgw: %v\n", err)
	return exitUnusable
}
