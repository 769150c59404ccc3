-- Batch insert into erasures; the column list is required: ClickHouse
-- 18.16 sends no header without it.
INSERT INTO erasures (org, erasure_id, kind, reference, cutoff, calls, rows, days_rebuilt, requested_at, finished_at)
