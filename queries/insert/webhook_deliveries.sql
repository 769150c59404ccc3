-- Batch insert into webhook_deliveries; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO webhook_deliveries (org, event, status, reason, at)
