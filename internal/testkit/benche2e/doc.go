// Package benche2e is the end-to-end stream benchmark behind `make
// bench-e2e`: it publishes generated Aircall-like calls (internal/testkit/callgen)
// sealed to the raw topic as the poller does, times `phonesignals run
// --until-idle` as a separate process until the rows are queryable in
// ClickHouse, and checks every row against what the generator knows it
// should be. Config.Instances measures several `run` processes sharing the
// consumer group over the same records (`make bench-scale`: 1 and 2), for
// the CPU per call a member adds.
package benche2e
