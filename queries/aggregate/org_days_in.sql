-- Every day of one org (@org) in [@from, @to) that raw_signals or
-- user_day_metrics holds, as (org, day): the days `phonesignals aggregates
-- rebuild` marks and recomputes, with the newest version of the day's
-- aggregate rows (0 for none). The rebuild records that version as a
-- 'refreshing' mark first, so its refresh sorts above every row already
-- there, whatever wrote it.
SELECT org, day, max(version) AS version
FROM
(
    SELECT org, toDate(started_at) AS day, toUInt64(0) AS version
    FROM raw_signals
    WHERE org = @org AND started_at >= @from AND started_at < @to
    UNION ALL
    SELECT org, day, version
    FROM user_day_metrics
    WHERE org = @org AND day >= toDate(@from) AND day < toDate(@to)
) AS days
GROUP BY org, day
ORDER BY org, day
