// Package load writes Arrow record batches of RawSignal rows into
// ClickHouse with columnar batch inserts (clickhouse-go/v2), one INSERT per
// transform poll, then marks the days the poll touched for the per-day
// aggregates (user_day_metrics), which package load/aggregate keeps;
// poll.go overlaps the lookup of those days with the poll's decoding.
// An INSERT is not atomic: ClickHouse splits it into one block per PARTITION BY month, so a
// batch spanning months can be left partly loaded by a crash. That is
// harmless because the consumer commits Kafka offsets only after Write
// returned: the batch is delivered again, its rows load again (the
// versioned reads count each call once) and its days are marked again.
package load
