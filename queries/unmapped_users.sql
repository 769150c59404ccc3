-- Provider users with calls in [@from, @to) and no employee mapping: whom
-- an admin should map. Calls with no user at all are counted under ''.
-- Only the org's rows are read (see org_calls.sql).
SELECT user_id, count() AS calls
FROM
(
    SELECT
        argMax(user_id, version) AS user_id,
        argMax(started_at, version) AS started_at,
        argMax(deleted, version) AS is_deleted
    {range_calls}
) AS current_calls
WHERE is_deleted = 0 AND started_at >= @from AND started_at < @to
    AND user_id NOT IN
    (
        SELECT provider_user_id
        FROM
        (
            SELECT
                employee_id,
                argMax(provider_user_id, version) AS provider_user_id,
                argMax(deleted, version) AS is_deleted
            FROM employees
            WHERE org = @org
            GROUP BY employee_id
        ) AS roster
        WHERE is_deleted = 0
    )
GROUP BY user_id
ORDER BY calls DESC, user_id
