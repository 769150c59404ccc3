-- The (org, UTC day) keys a batch makes stale: every day holding a version
-- of one of the batch's calls, so the day a call left when its new version
-- moved it to another day (or partition) is named too, not only the days
-- of the batch's own rows (which are already in raw_signals). The read is
-- by raw_signals' sort key (org, provider, call_id). The orgs and calls
-- are literal lists rendered by queries.RenderCallKeys.
SELECT DISTINCT org, toDate(started_at) AS day
FROM raw_signals
WHERE org IN ({orgs}) AND (org, provider, call_id) IN ({calls})
