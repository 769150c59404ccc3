// Package scaleout tests phonesignals run as several transform instances
// on a multi-broker Kafka: a 3-broker embedded cluster (kfake, the raw
// topic replicated 3 times) with a broker stopped during the stream, and
// two loaders whose clocks are 5 s apart (TestStream, in this process,
// with the real poller and webhook server as producers); and several
// `phonesignals run` processes in one consumer group, one killed with
// SIGKILL in the middle of a poll and one in the middle of a refresh of
// the per-day aggregates (TestRunMembers). Each ends with every review
// number checked against the independent computation over the fixture
// (fixture.Truth) and the aggregates exact (`aggregates verify`). The
// kill points are reached deterministically, without hooks in the
// product: a TCP proxy in front of ClickHouse holds the chosen statement
// (the native protocol sends a query's text uncompressed) until the test
// has killed the process.
//
// `make test` runs them at 3,000 calls; `make scaleout`, -scaleout.calls
// or PHONESIGNALS_SCALEOUT_CALLS size them up. Every test takes its store
// from openStore, so the same tests can run against a cluster store.
// `make bench-scale` measures the CPU per call of 1 and 2 instances.
package scaleout
