-- How many sync runs of an org finished well, and when the last one did
-- (1970-01-01 when none did): data freshness and its alert.
SELECT count() AS runs, max(finished_at) AS last_ok
FROM sync_runs
WHERE org = ? AND status = 'ok'
