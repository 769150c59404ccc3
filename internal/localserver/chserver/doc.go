// Package chserver runs a real ClickHouse 18.16 server (Debian's
// clickhouse-server package) on loopback with a private config and data
// directory, so the pipeline can be tested end to end against the oldest
// ClickHouse the project supports, and so the demo can leave a server
// running that a person can query with `clickhouse-client --port N`.
//
// Start runs a server owned by the caller (tests); Ensure reuses or starts a
// detached one recorded in Dir/server.json (the CLI and demo); ForTest
// shares one server per test binary.
package chserver
