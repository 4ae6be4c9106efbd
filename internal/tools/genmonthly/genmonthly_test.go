package genmonthly

import (
	"context"
	"testing"

	"github.com/calaim-gateway/calaim-gateway/store"
)

func TestGenerateSmall(t *testing.T) {
	dir := t.TempDir()
	st, err := Generate(context.Background(), dir, 200)
	if err != nil {
		t.Fatal(err)
	}
	if st.Members != 200 || st.Auths != 2*50+20 || st.Lines == 0 {
		t.Errorf("%+v", st)
	}
	s, err := store.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	if err := s.EachMonthMember(context.Background(), 20260601, 20260630, func(m *store.MonthMember) error { n++; return nil }); err != nil || n != 200 {
		t.Errorf("members %d %v", n, err)
	}
}
