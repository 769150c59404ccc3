-- Batch insert into sync_runs; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO sync_runs (org, run_id, provider, started_at, finished_at, window_from, window_to, status, error, calls, requests)
