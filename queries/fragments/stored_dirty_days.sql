-- Fragment {stored_dirty_days}: the (org, day) pairs whose aggregates are
-- behind raw_signals (migration 009's user_day_dirty: the newest 'loaded'
-- mark above the newest 'refreshed' one), for the views, which cannot take
-- @dirty.
SELECT org, day
FROM user_day_dirty
GROUP BY org, day
HAVING maxIf(value, kind = 'loaded') > maxIf(value, kind = 'refreshed')
