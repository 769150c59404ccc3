-- Batch insert into sync_windows; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO sync_windows (org, job, window_from, window_to, calls, done_at)
