package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/phonesignals/phonesignals/internal/localserver/chcluster"
	"github.com/phonesignals/phonesignals/internal/localserver/chcluster/chclustertest"
)

// TestClusterConcurrentQuorumInserts: on 18.16 a shard takes one quorum
// insert per table at a time and refuses the others with code 286, even
// the empty block a Distributed insert sends to a shard the rows do not
// go to. The refresher runs two statements at once and several loaders
// share a cluster, so the store waits those out: eight INSERT ... SELECT
// of different orgs at once all land, each once. The control, on the
// embedded connection without the wait, has at least one refused.
func TestClusterConcurrentQuorumInserts(t *testing.T) {
	c := chclustertest.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	st, err := Open(ctx, Config{Addr: c.Nodes()[0].Addr(), Cluster: chcluster.Name, ClusterAll: chcluster.AllName})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	insert := func(exec func(context.Context, string, ...any) error, tag string, i int) error {
		return exec(ctx, fmt.Sprintf(`INSERT INTO raw_signals (org, provider, call_id, version, started_at, observed_at, loaded_at)
			SELECT 'q%s%d', 'p', toString(number), 1, toDateTime('2026-03-02 09:00:00'), now(), now() FROM numbers(5000)`, tag, i))
	}
	run := func(exec func(context.Context, string, ...any) error, tag string) (refused int, err error) {
		var g errgroup.Group
		errs := make([]error, 8)
		for i := range errs {
			g.Go(func() error { errs[i] = insert(exec, tag, i); return nil })
		}
		_ = g.Wait()
		for _, e := range errs {
			if e != nil {
				refused++
				err = e
			}
		}
		return refused, err
	}
	if refused, err := run(st.Conn().Exec, "a"); err != nil {
		t.Fatalf("%d of 8 concurrent inserts failed: %v", refused, err)
	}
	var n, orgs uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count(), uniqExact(org) FROM raw_signals WHERE org LIKE 'qa%'").Scan(&n, &orgs); err != nil {
		t.Fatal(err)
	}
	if n != 8*5000 || orgs != 8 {
		t.Errorf("after 8 concurrent inserts of 5000 rows: %d rows of %d orgs, want 40000 of 8", n, orgs)
	}
	raw := st.Conn().(*routedConn).Conn
	refused, err := run(raw.Exec, "b")
	t.Logf("control without the wait: %d of 8 refused (%v)", refused, err)
	if refused == 0 {
		t.Error("control: 8 concurrent quorum inserts without the wait all went through; the test cannot tell the wait works")
	}
}
