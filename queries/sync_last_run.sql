-- The latest sync run of an org, for `doctor` and the sync status.
SELECT run_id, started_at, finished_at, window_from, window_to, status, error, calls, requests
FROM sync_runs
WHERE org = ?
ORDER BY started_at DESC, finished_at DESC, run_id DESC
LIMIT 1
