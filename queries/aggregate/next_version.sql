-- The version of a new mark or refresh of some orgs' days ({orgs},
-- rendered by queries.RenderDayKeys): one above every value user_day_dirty
-- holds for those orgs ('loaded' and 'refreshed' marks, and the
-- 'refreshing' reservations a refresh writes before it reads raw_signals).
-- The store orders the loaders' work, not their clocks (load/aggregates.go,
-- nextVersion). Reads the org and value columns by the sort key's prefix;
-- max over no row is 0, so the first version is 1.
SELECT max(value) + 1
FROM user_day_dirty
WHERE org IN ({orgs})
