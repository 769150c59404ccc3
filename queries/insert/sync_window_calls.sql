-- Batch insert into sync_window_calls; the column list is required:
-- ClickHouse 18.16 sends no header without it.
INSERT INTO sync_window_calls (org, job, window_from, window_to, call_id)
