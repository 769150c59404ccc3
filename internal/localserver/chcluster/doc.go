// Package chcluster runs a real ClickHouse 18.16 cluster on loopback for
// tests: one ZooKeeper (Debian's zookeeper package, run with java) and
// Shards × Replicas clickhouse-server nodes, with the remote_servers
// clusters Name (replicated shards, for Distributed tables and ON CLUSTER
// DDL on Replicated tables) and AllName (every node its own shard, for DDL
// on non-replicated tables, which 18.16 refuses ON CLUSTER Name), the
// {shard} and {replica} macros and distributed DDL. Every port is picked
// at start, so tests in parallel do not clash. Kill, Restart and
// RestartZooKeeper inject the faults the cluster tests need.
//
// The recipe and the 18.16 quirks this follows are in
// CLICKHOUSE-CLUSTER.md of the shared machine notes.
package chcluster
