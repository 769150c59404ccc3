// Package benche2e is the end-to-end stream benchmark behind `make
// bench-e2e`: it publishes generated Aircall-like calls (internal/testkit/callgen)
// sealed to the raw topic as the poller does, times `phonesignals run
// --until-idle` as a separate process until the rows are queryable in
// ClickHouse, and checks every row against what the generator knows it
// should be.
package benche2e
