package store_test

import (
	"context"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/store"
	"github.com/calaim-gateway/calaim-gateway/store/storetest"
)

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		Fresh: func(t *testing.T) func(string) store.LedgerStore {
			dir := t.TempDir()
			return func(string) store.LedgerStore {
				s, err := store.OpenSQLite(context.Background(), dir)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				return s
			}
		},
	})
}
