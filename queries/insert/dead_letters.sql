-- Batch insert into dead_letters; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO dead_letters (org, provider, call_id, topic, partition, offset, reason, at)
