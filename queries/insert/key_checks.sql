-- Batch insert into key_checks; the column list is required: ClickHouse
-- 18.16 sends no header without it.
INSERT INTO key_checks (key_check, created_at)
