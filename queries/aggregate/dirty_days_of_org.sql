-- The days of one org (@org) whose user_day_metrics rows are behind
-- raw_signals, as 'YYYY-MM-DD,...' ('' for none): the @dirty parameter of
-- the review queries, read once so all parts of a query agree on it.
SELECT arrayStringConcat(groupArray(toString(day)), ',') AS days
FROM
(
    SELECT day
    FROM user_day_dirty
    WHERE org = @org
    GROUP BY day
    HAVING maxIf(value, kind = 'loaded') > maxIf(value, kind = 'refreshed')
    ORDER BY day
) AS dirty
