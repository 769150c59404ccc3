-- Batch insert into dead_letter_replays; the column list is required:
-- ClickHouse 18.16 sends no header without it.
INSERT INTO dead_letter_replays (org, origin, reason, call_id, replayed_at)
