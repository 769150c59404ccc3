-- The (org, UTC day) keys whose user_day_metrics rows are older than the
-- newest rows loaded for that day: marked 'loaded' by a batch, not yet
-- 'refreshed' after it. Reads compute these days from raw_signals, and the
-- loader's refresher recomputes them.
SELECT org, day
FROM user_day_dirty
GROUP BY org, day
HAVING maxIf(value, kind = 'loaded') > maxIf(value, kind = 'refreshed')
ORDER BY org, day
