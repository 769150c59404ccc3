-- Batch insert into org_hours (one rule version); the column list is
-- required on 18.16.
INSERT INTO org_hours (org, effective_from, timezone, hours, days, deleted, set_at, version)
