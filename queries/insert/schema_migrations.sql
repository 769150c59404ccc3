-- Batch insert into schema_migrations; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO schema_migrations (version, name, applied_at)
