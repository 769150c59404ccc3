// Package scaleout tests phonesignals run as several transform instances
// on a multi-broker Kafka: a 3-broker embedded cluster (kfake, the raw
// topic replicated 3 times) with a broker stopped during the stream;
// several `phonesignals run` processes in one consumer group, one killed
// with SIGKILL in the middle of a poll and one in the middle of a refresh
// of the per-day aggregates; and two loaders whose clocks are 5 s apart.
// Each ends with every review number checked against the independent
// computation over the fixture (fixture.Truth) and `aggregates verify`
// clean. The kill points are reached deterministically, without hooks in
// the product: the broker holds the poll's offset commit (kfake's
// ControlKey) and a TCP proxy in front of ClickHouse holds the refresh's
// statement, until the test has killed the process.
//
// `make test` runs the short versions; -scaleout.calls (or
// PHONESIGNALS_SCALEOUT_CALLS) sizes them up. The store every test uses
// comes from openStore, so the same tests can run against a cluster store.
// The benchmark BenchmarkScaleOut (`make bench-scale`) reports the CPU per
// call of 1 and 2 `run` instances.
package scaleout
