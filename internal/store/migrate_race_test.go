package store

import (
	"context"
	"sync"
	"testing"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
)

// TestMigrateConcurrently: several instances started together on a new
// store each migrate it (`run` does, so does every instance of a
// deployment scaled out). Before, one of two failed at the first
// ADD COLUMN the other had just added ("code: 44 ... column with this
// name already exists"), every time on 18.16.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	srv := chservertest.Shared(t)
	for _, n := range []int{2, 3} {
		db := chservertest.Database(t, srv)
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			st, err := Open(ctx, Config{Addr: srv.Addr(), Database: db})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = st.Migrate(ctx)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("%d instances migrating at once: instance %d: %v", n, i, err)
			}
		}
	}
}
