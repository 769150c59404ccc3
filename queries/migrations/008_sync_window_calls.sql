-- The calls each finished sync window published, so a window counts as
-- done only while its calls are in ClickHouse (raw_signals, or dead_letters
-- for a record the transform refused): if the Kafka data is lost before the
-- transform loads it, `sync` fetches the window again and `doctor` lists it.
CREATE TABLE IF NOT EXISTS sync_window_calls
(
    org String,
    job String,
    window_from DateTime('UTC'),
    window_to DateTime('UTC'),
    call_id String
)
ENGINE = ReplacingMergeTree
ORDER BY (org, job, window_from, window_to, call_id);
