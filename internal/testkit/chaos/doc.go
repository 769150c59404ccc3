// Package chaos holds process-level reliability tests: the real
// phonesignals binary, its embedded broker and its local ClickHouse 18.16
// run as separate processes, are killed with SIGKILL at random moments and
// restarted, and the review numbers must still equal an independent
// computation over the fixture. `make test` runs them at a small size;
// `make chaos` runs the full 200,000 calls. The tests run on Linux only
// (process groups, parent-death signals).
package chaos
