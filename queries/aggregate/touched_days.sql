-- The (org, UTC day) keys a batch makes stale: every day holding a version
-- of one of the batch's calls, so the day a call left when its new version
-- moved it to another day (or partition) is named too, not only the days
-- of the batch's own rows (which are already in raw_signals). The read is
-- by raw_signals' sort key (org, provider, call_id): the orgs and calls
-- markers take queries.RenderCallKeys' org list and condition (call ids
-- listed, or their range for a large batch: a superset is harmless).
SELECT DISTINCT org, toDate(started_at) AS day
FROM raw_signals
WHERE org IN ({orgs}) AND ({calls})
