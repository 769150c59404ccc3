-- Finished backfill windows of an org: how many, how many calls they held,
-- and the latest one finished.
SELECT count() AS windows, sum(calls) AS calls, max(done_at) AS last_done, max(window_to) AS last_window_to
FROM sync_windows
WHERE org = ?
