-- Batch insert of day marks (kind 'loaded' or 'refreshed', value the
-- loader's clock in nanoseconds); the column list is required on 18.16.
INSERT INTO user_day_dirty (org, day, kind, value)
