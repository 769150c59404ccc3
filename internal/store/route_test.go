package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/internal/localserver/chcluster"
	"github.com/phonesignals/phonesignals/internal/localserver/chcluster/chclustertest"
)

func TestWeightSlots(t *testing.T) {
	tests := []struct {
		weights []int
		want    []int
	}{
		{[]int{1, 1}, []int{0, 1}},
		{[]int{1, 2, 1}, []int{0, 1, 1, 2}},
		{[]int{3}, []int{0, 0, 0}},
	}
	for _, tt := range tests {
		got := weightSlots(tt.weights)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("weightSlots(%v) = %v, want %v", tt.weights, got, tt.want)
		}
	}
}

// TestClusterRouting on a 2 × 2 cluster: ShardOf names the shard the
// Distributed tables put each org's rows on (both its replicas hold the
// row, the other shard's nodes none), and an org's review reaches only
// its own shard, by the other shard's query_log, while the same read of
// the Distributed table from a plain connection reaches both (the
// control: the check can see a query on the other shard).
func TestClusterRouting(t *testing.T) {
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
	orgs := make([]string, 16)
	for i := range orgs {
		orgs[i] = fmt.Sprintf("route-org-%d", i)
		if _, err := st.AddOrg(ctx, orgs[i], "aircall"); err != nil {
			t.Fatal(err)
		}
	}
	nodes := c.Nodes()
	conns := make([]*Store, len(nodes))
	for i, n := range nodes {
		if conns[i], err = Open(ctx, Config{Addr: n.Addr(), Database: "phonesignals_local", NoCreate: true}); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
	}
	shardsSeen := map[int]bool{}
	for _, org := range orgs {
		want := ShardOf(org, []int{1, 1})
		shardsSeen[want] = true
		for i, n := range nodes {
			var rows uint64
			if err := conns[i].Conn().QueryRow(ctx, "SELECT count() FROM orgs WHERE org = ?", org).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			if onShard := n.Shard-1 == want; onShard != (rows > 0) {
				t.Errorf("org %s: node %s holds %d rows; ShardOf says shard %d", org, n.Name(), rows, want+1)
			}
		}
	}
	if len(shardsSeen) != 2 {
		t.Fatalf("16 orgs all on shard(s) %v: the check cannot tell shards apart", shardsSeen)
	}

	// An org no earlier statement named, so only the review's queries
	// and the control's can mention it.
	org := "route-probe"
	other := 1 - ShardOf(org, []int{1, 1})
	logged := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
	if _, err := st.Review(logged, org, "no-cycle", "no-employee"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("review of %s: %v, want ErrNotFound", org, err)
	}
	if got := queriesFor(ctx, t, c, conns, other, org); got != 0 {
		t.Errorf("org %s's review sent %d queries to shard %d, which holds none of its rows", org, got, other+1)
	}
	plain, err := Open(ctx, Config{Addr: nodes[0].Addr(), NoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	ctl := clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"log_queries": 1}))
	if err := plain.Conn().Exec(ctl, "SELECT count() FROM raw_signals WHERE org = ?", org); err != nil {
		t.Fatal(err)
	}
	if got := queriesFor(ctx, t, c, conns, other, org); got == 0 {
		t.Errorf("control: a read of %s through the Distributed table left no query on shard %d's query_log", org, other+1)
	}
}

// queriesFor counts the queries naming org in the query_log of shard's nodes.
func queriesFor(ctx context.Context, t *testing.T, c *chcluster.Cluster, conns []*Store, shard int, org string) uint64 {
	t.Helper()
	var total uint64
	for i, n := range c.Nodes() {
		if n.Shard-1 != shard {
			continue
		}
		if err := conns[i].Conn().Exec(ctx, "SYSTEM FLUSH LOGS"); err != nil {
			t.Fatal(err)
		}
		var k uint64
		if err := conns[i].Conn().QueryRow(ctx, "SELECT count() FROM system.query_log WHERE type = 1 AND position(query, ?) > 0 AND position(query, 'query_log') = 0", "'"+org+"'").Scan(&k); err != nil && !strings.Contains(err.Error(), "doesn't exist") {
			t.Fatal(err) // a node that logged no query yet has no query_log
		}
		total += k
	}
	return total
}
