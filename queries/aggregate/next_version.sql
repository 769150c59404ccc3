-- The newest version of some orgs' marks ({orgs}, rendered by
-- queries.RenderDayKeys): a new mark or refresh takes one above it, every
-- value user_day_dirty holds for those orgs ('loaded' and 'refreshed' marks, and the
-- 'refreshing' reservations a refresh writes before it reads raw_signals).
-- The store orders the loaders' work, not their clocks (load/aggregate/aggregates.go,
-- nextVersion, which adds the one and refuses to wrap). Reads the org and
-- value columns by the sort key's prefix; max over no row is 0.
SELECT max(value)
FROM user_day_dirty
WHERE org IN ({orgs})
