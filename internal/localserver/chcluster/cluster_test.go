package chcluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/phonesignals/phonesignals/internal/localserver/chcluster"
	"github.com/phonesignals/phonesignals/internal/localserver/chcluster/chclustertest"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  chcluster.Config
		want []string
	}{
		{name: "minimal", cfg: chcluster.Config{Dir: "x"}},
		{name: "no dir", cfg: chcluster.Config{}, want: []string{"Config.Dir"}},
		{name: "everything wrong", cfg: chcluster.Config{Shards: 10, Replicas: -1, SessionTimeout: -1, StartTimeout: -1},
			want: []string{"Config.Dir", "Config.Shards", "Config.Replicas", "Config.SessionTimeout", "Config.StartTimeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to name %s", err, w)
				}
			}
		})
	}
}

func connect(t *testing.T, addr string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, Auth: clickhouse.Auth{Username: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func count(t *testing.T, ctx context.Context, conn driver.Conn, q string) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(ctx, q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// syncReplica waits until the node has fetched every part its peers logged.
func syncReplica(t *testing.T, ctx context.Context, conn driver.Conn) {
	t.Helper()
	if err := conn.Exec(ctx, "SYSTEM SYNC REPLICA d.raw_local"); err != nil {
		t.Fatalf("SYSTEM SYNC REPLICA: %v", err)
	}
}

// TestCluster builds the recipe's schema ON CLUSTER, inserts through
// Distributed and checks every node holds its shard's rows, then the
// faults: a replica killed and restarted, ZooKeeper restarted, each
// followed by an insert that every replica of its shard must see.
func TestCluster(t *testing.T) {
	c := chclustertest.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	nodes := c.Nodes()
	if len(nodes) != 4 || c.Shards() != 2 {
		t.Fatalf("got %d nodes in %d shards, want 4 in 2", len(nodes), c.Shards())
	}
	conns := make([]driver.Conn, len(nodes))
	for i, n := range nodes {
		conns[i] = connect(t, n.Addr())
	}
	for _, q := range []string{
		"CREATE DATABASE d ON CLUSTER " + chcluster.Name,
		"CREATE TABLE d.raw_local ON CLUSTER " + chcluster.Name + " (org String, id UInt32) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/d/raw_local', '{replica}') ORDER BY (org, id)",
		"CREATE TABLE d.raw ON CLUSTER " + chcluster.Name + " AS d.raw_local ENGINE = Distributed(" + chcluster.Name + ", d, raw_local, cityHash64(org))",
	} {
		if err := conns[0].Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	insert := func(conn driver.Conn, from, n int) {
		t.Helper()
		q := fmt.Sprintf("INSERT INTO d.raw SELECT concat('org', toString(number %% 10)), toUInt32(number) FROM system.numbers LIMIT %d, %d", from, n)
		if err := conn.Exec(clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1})), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	check := func(want uint64, alive ...int) {
		t.Helper()
		for _, i := range alive {
			syncReplica(t, ctx, conns[i])
		}
		if got := count(t, ctx, conns[alive[0]], "SELECT count() FROM d.raw"); got != want {
			t.Errorf("Distributed count = %d, want %d", got, want)
		}
		var perShard [2]uint64
		for _, i := range alive {
			got := count(t, ctx, conns[i], "SELECT count() FROM d.raw_local")
			s := nodes[i].Shard - 1
			if perShard[s] != 0 && perShard[s] != got {
				t.Errorf("node %s holds %d rows, its peer %d", nodes[i].Name(), got, perShard[s])
			}
			perShard[s] = got
		}
		if perShard[0] == 0 || perShard[1] == 0 || perShard[0]+perShard[1] != want {
			t.Errorf("shards hold %v rows, want both non-empty and %d in all", perShard, want)
		}
	}
	insert(conns[0], 0, 1000)
	check(1000, 0, 1, 2, 3)

	if err := c.Kill(1); err != nil {
		t.Fatal(err)
	}
	insert(conns[2], 1000, 1000) // through shard 2; shard 1's live replica takes its part
	if err := c.Restart(ctx, 1); err != nil {
		t.Fatal(err)
	}
	conns[1] = connect(t, nodes[1].Addr())
	check(2000, 0, 1, 2, 3)

	if err := c.RestartZooKeeper(ctx); err != nil {
		t.Fatal(err)
	}
	// Sessions reconnect a moment after ZooKeeper is back: until then an
	// insert fails "Table is in readonly mode"; wait for one that works.
	deadline := time.Now().Add(time.Minute)
	for {
		err := conns[0].Exec(clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1})),
			"INSERT INTO d.raw SELECT concat('org', toString(number % 10)), toUInt32(number) FROM system.numbers LIMIT 2000, 1000")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("insert after the ZooKeeper restart: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	check(3000, 0, 1, 2, 3)
}
