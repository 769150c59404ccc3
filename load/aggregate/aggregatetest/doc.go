// Package aggregatetest holds what the tests of load and load/aggregate
// share: a migrated store on the shared 18.16 server, Arrow batches of
// calls, and the per-day numbers read from user_day_metrics and computed
// from raw_signals, which must agree.
package aggregatetest
