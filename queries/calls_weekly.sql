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
    FROM raw_signals
    WHERE org = @org AND (provider, call_id) IN
    (
        SELECT provider, call_id
        FROM raw_signals
        WHERE org = @org AND started_at >= @from AND started_at < @to
    )
    GROUP BY provider, call_id
) AS current_calls
WHERE is_deleted = 0 AND started_at >= @from AND started_at < @to
    AND (@employee = '' OR user_id IN
    (
        SELECT user_id
        FROM
        (
            SELECT org, employee_id, name, cohort, if(provider_user_id = '' OR owner = employee_id, provider_user_id, '') AS user_id
            FROM
            (
                SELECT org, employee_id, name, cohort, provider_user_id, owner
                FROM
                (
                    SELECT org, employee_id, name, cohort, provider_user_id
                    FROM
                    (
                        SELECT
                            org,
                            employee_id,
                            argMax(name, version) AS name,
                            argMax(cohort, version) AS cohort,
                            argMax(provider_user_id, version) AS provider_user_id,
                            argMax(deleted, version) AS is_deleted
                        FROM employees
                        WHERE org = @org AND employee_id = @employee
                        GROUP BY org, employee_id
                    ) AS latest
                    WHERE is_deleted = 0
                ) AS roster
                ALL LEFT JOIN
                (
                    {{owners}}
                ) AS owners USING (org, provider_user_id)
            ) AS mapped_roster
        ) AS mapped
        WHERE user_id != ''
    ))
GROUP BY week, direction, outcome
ORDER BY week, direction, outcome
