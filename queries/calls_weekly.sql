-- Calls per week (weeks start on Monday, UTC) by direction and outcome in
-- [@from, @to): of one employee (the provider user mapped to them now), or
-- of the whole org when @employee is ''. Deleted calls count nowhere.
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @from, @to,
-- @employee.
-- Only the org's rows are read: the calls with a version in the range, by
-- the sort key, then all of their versions (the current one decides).
SELECT toDateTime(toMonday(started_at), 'UTC') AS week, direction, status AS outcome, count() AS calls
FROM
(
    SELECT
        argMax(user_id, version) AS user_id,
        argMax(started_at, version) AS started_at,
        argMax(direction, version) AS direction,
        argMax(status, version) AS status,
        argMax(escalated, version) AS escalated,
        argMax(deleted, version) AS is_deleted
    {range_calls}
) AS current_calls
WHERE is_deleted = 0 AND started_at >= @from AND started_at < @to
    AND (@employee = '' OR user_id IN
    (
        SELECT user_id
        FROM
        (
            {mapped_roster employees=" AND employee_id = @employee"}
        ) AS mapped
        WHERE user_id != ''
    ))
GROUP BY week, direction, outcome
ORDER BY week, direction, outcome
