package store

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/go-faster/city"

	"github.com/phonesignals/phonesignals/queries"
)

// routedConn is the store's connection on a cluster. ClickHouse 18.16 has
// no optimize_skip_unused_shards, so a read of one org through the
// Distributed tables still asks every shard; instead a read carrying the
// org (a named parameter "org", as every org-scoped query file binds it)
// goes to a replica of the org's shard and reads its local tables and
// views (Database_local). Everything else (writes, DDL, reads across
// orgs) goes through the Distributed tables of the embedded connection.
type routedConn struct {
	driver.Conn
	cfg Config

	mu     sync.Mutex
	shards []driver.Conn // one per shard, its replicas in order
	slots  []int         // shard index per weight slot, as Distributed picks
}

// ShardOf is the index (0-based, in remote_servers order) of the shard a
// Distributed table sharded by cityHash64(org) sends org's rows to, for
// shards of the given weights: the hash modulo the total weight, mapped
// onto the shards' weight ranges. go-faster/city's CH64 is ClickHouse's
// cityHash64 (CityHash 1.0.2), so the choice is the server's own.
func ShardOf(org string, weights []int) int {
	slots := weightSlots(weights)
	return slots[city.CH64([]byte(org))%uint64(len(slots))]
}

func weightSlots(weights []int) []int {
	var slots []int
	for i, w := range weights {
		for j := 0; j < w; j++ {
			slots = append(slots, i)
		}
	}
	return slots
}

// orgArg is the value of the named parameter "org", or "".
func orgArg(args []any) string {
	for _, a := range args {
		if nv, ok := a.(driver.NamedValue); ok && nv.Name == "org" {
			if s, ok := nv.Value.(string); ok {
				return s
			}
		}
	}
	return ""
}

// route is the connection for a query with args.
func (c *routedConn) route(ctx context.Context, args []any) (driver.Conn, error) {
	org := orgArg(args)
	if org == "" {
		return c.Conn, nil
	}
	if err := c.open(ctx); err != nil {
		return nil, err
	}
	return c.shards[c.slots[city.CH64([]byte(org))%uint64(len(c.slots))]], nil
}

// open connects to every shard once, from the cluster's definition on the
// node the store was opened on.
func (c *routedConn) open(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shards != nil {
		return nil
	}
	rows, err := c.Conn.Query(ctx, queries.ClusterNodes, clickhouse.Named("cluster", c.cfg.Cluster))
	if err != nil {
		return fmt.Errorf("listing the nodes of cluster %s: %w", c.cfg.Cluster, err)
	}
	defer rows.Close()
	var addrs [][]string
	var weights []int
	for rows.Next() {
		var shard, weight, replica uint32
		var host string
		var port uint16
		if err := rows.Scan(&shard, &weight, &replica, &host, &port); err != nil {
			return fmt.Errorf("reading the nodes of cluster %s: %w", c.cfg.Cluster, err)
		}
		if len(addrs) < int(shard) {
			addrs = append(addrs, nil)
			weights = append(weights, int(weight))
		}
		addrs[shard-1] = append(addrs[shard-1], net.JoinHostPort(host, strconv.Itoa(int(port))))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading the nodes of cluster %s: %w", c.cfg.Cluster, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("cluster %s: not in system.clusters of %s; name a cluster of the servers' remote_servers with --cluster", c.cfg.Cluster, c.cfg.Addr)
	}
	shards := make([]driver.Conn, 0, len(addrs))
	for i, a := range addrs {
		conn, err := dialAddrs(ctx, c.cfg, a, c.cfg.Database+queries.LocalSuffix)
		if err != nil {
			closeAll(shards)
			return fmt.Errorf("connecting to shard %d of cluster %s: %w", i+1, c.cfg.Cluster, err)
		}
		shards = append(shards, conn)
	}
	c.shards, c.slots = shards, weightSlots(weights)
	return nil
}

func closeAll(conns []driver.Conn) {
	for _, c := range conns {
		c.Close()
	}
}

// Query sends an org's query to its shard.
func (c *routedConn) Query(ctx context.Context, query string, args ...any) (driver.Rows, error) {
	conn, err := c.route(ctx, args)
	if err != nil {
		return nil, err
	}
	return conn.Query(ctx, query, args...)
}

// QueryRow sends an org's query to its shard.
func (c *routedConn) QueryRow(ctx context.Context, query string, args ...any) driver.Row {
	conn, err := c.route(ctx, args)
	if err != nil {
		return errRow{err}
	}
	return conn.QueryRow(ctx, query, args...)
}

// Select sends an org's query to its shard.
func (c *routedConn) Select(ctx context.Context, dest any, query string, args ...any) error {
	conn, err := c.route(ctx, args)
	if err != nil {
		return err
	}
	return conn.Select(ctx, dest, query, args...)
}

// Close closes the shard connections and the embedded one.
func (c *routedConn) Close() error {
	c.mu.Lock()
	closeAll(c.shards)
	c.shards = nil
	c.mu.Unlock()
	return c.Conn.Close()
}

// errRow is a Row that failed before it was sent.
type errRow struct{ err error }

func (r errRow) Err() error           { return r.err }
func (r errRow) Scan(...any) error    { return r.err }
func (r errRow) ScanStruct(any) error { return r.err }
