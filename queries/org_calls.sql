-- Current calls of an org in [@from, @to): total, with a user, deleted
-- versions hidden, and how many versions were folded into them. Only the
-- org's rows are read: the calls with a version in the range, by the sort
-- key, then all of their versions.
SELECT
    count() AS calls,
    countIf(user_id != '') AS with_user,
    sum(versions_seen) AS versions
FROM
(
    SELECT
        argMax(user_id, version) AS user_id,
        argMax(started_at, version) AS started_at,
        argMax(deleted, version) AS is_deleted,
        count() AS versions_seen
    {range_calls}
) AS current_calls
WHERE is_deleted = 0 AND started_at >= @from AND started_at < @to
