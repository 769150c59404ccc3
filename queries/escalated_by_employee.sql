-- Escalated calls per employee in [@from, @to), every employee of the
-- roster (0 when none): an alert rule gets one series per employee that
-- stays Normal instead of going to No Data. Only meaningful where the
-- org's calls store escalation_available = 1; the caller refuses the others.
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @from, @to.
-- Only the org's rows are read: the calls with a version in the range, by
-- the sort key, then all of their versions (the current one decides).
SELECT employee_id, name, cohort, escalated_calls
FROM
(
    SELECT employee_id, name, cohort, user_id
    FROM
    (
        {mapped_roster}
    ) AS mapped
) AS roster
ALL LEFT JOIN
(
    SELECT user_id, countIf(escalated = 1) AS escalated_calls
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
    WHERE is_deleted = 0 AND user_id != '' AND started_at >= @from AND started_at < @to
    GROUP BY user_id
) AS escalations USING (user_id)
ORDER BY employee_id
