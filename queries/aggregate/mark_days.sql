-- Batch insert of day marks (kind 'loaded', 'refreshing' or 'refreshed', value from
-- next_version.sql); the column list is required on 18.16.
INSERT INTO user_day_dirty (org, day, kind, value)
