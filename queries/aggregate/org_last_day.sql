-- The newest day of one org (@org) in user_day_metrics (1970-01-01 when
-- it has none): `doctor` verifies the aggregates of the org's last days
-- of data from there (aggregate.Maintainer.VerifyRecent).
SELECT max(day)
FROM user_day_metrics
WHERE org = @org
