package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/internal/localserver/chcluster"
	"github.com/phonesignals/phonesignals/internal/localserver/chcluster/chclustertest"
)

// TestClusterDedup: a poll loaded again after a crash sends the same
// block to raw_signals, and the Replicated tables behind the Distributed
// one keep it once (18.16 drops a byte-identical block, per shard, within
// the last 100 blocks); the control with insert_deduplicate = 0 keeps it
// twice, so the test can fail.
func TestClusterDedup(t *testing.T) {
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
	day := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	insert := func(ctx context.Context, tag string) {
		t.Helper()
		b, err := st.Conn().PrepareBatch(ctx, "INSERT INTO raw_signals (org, provider, call_id, version, started_at, observed_at, loaded_at)")
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 12; i++ {
			if err := b.Append(fmt.Sprintf("org%d", i%4), "p", fmt.Sprintf("%s-%d", tag, i), uint64(i+1), day, day, day); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatalf("inserting block %s: %v", tag, err)
		}
	}
	total := func(tag string) (dist uint64, perNode []uint64) {
		t.Helper()
		q := "SELECT count() FROM raw_signals WHERE call_id LIKE '" + tag + "-%'"
		if err := st.Conn().QueryRow(ctx, q).Scan(&dist); err != nil {
			t.Fatal(err)
		}
		for _, n := range c.Nodes() {
			ns, err := Open(ctx, Config{Addr: n.Addr(), NoCreate: true})
			if err != nil {
				t.Fatal(err)
			}
			var local uint64
			if err := ns.Conn().QueryRow(ctx, "SELECT count() FROM phonesignals_local.raw_signals WHERE call_id LIKE '"+tag+"-%'").Scan(&local); err != nil {
				t.Fatal(err)
			}
			ns.Close()
			perNode = append(perNode, local)
		}
		return dist, perNode
	}
	tests := []struct {
		tag   string
		ctx   context.Context
		times int
		want  uint64
	}{
		{"again", ctx, 3, 12},
		{"nodedup", clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_deduplicate": 0})), 2, 24},
	}
	for _, tt := range tests {
		for i := 0; i < tt.times; i++ {
			insert(tt.ctx, tt.tag)
		}
		dist, per := total(tt.tag)
		if dist != tt.want {
			t.Errorf("block %s inserted %d times: %d rows through Distributed, want %d", tt.tag, tt.times, dist, tt.want)
		}
		if per[0] != per[1] || per[2] != per[3] || per[0]+per[2] != tt.want || per[0] == 0 || per[2] == 0 {
			t.Errorf("block %s: rows per node %v, want both shards non-empty, replicas equal, %d in all", tt.tag, per, tt.want)
		}
	}
}
