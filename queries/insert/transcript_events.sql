-- Batch insert into transcript_events; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO transcript_events (org, call_id, status, reason, at)
