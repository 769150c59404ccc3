-- Batch insert into cycles; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO cycles (org, cycle_id, period_start, period_end, version)
