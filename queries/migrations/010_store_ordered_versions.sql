-- The per-day aggregates' versions now come from the store, not from the
-- loaders' clocks: a mark or refresh takes one above the newest value
-- user_day_dirty holds for its orgs (queries/aggregate/next_version.sql),
-- and a refresh reserves its version as a 'refreshing' mark before it
-- reads raw_signals. Rows written before that, by migration 009's backfill
-- (versioned by its clock, with no mark), must still sort below every
-- later refresh: record each day's newest row version as a 'refreshing'
-- mark. A reservation never cleans a day (dirty_days.sql compares
-- 'loaded' with 'refreshed' only), so this changes no read; running it
-- twice writes the same marks again.
INSERT INTO user_day_dirty (org, day, kind, value)
SELECT org, day, 'refreshing', max(version)
FROM user_day_metrics
GROUP BY org, day
