-- Batch insert into erasure_items; the column list is required: ClickHouse
-- 18.16 sends no header without it.
INSERT INTO erasure_items (org, erasure_id, kind, provider, id)
