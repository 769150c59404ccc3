-- Current calls of @org from provider @provider per provider user, started
-- in [@from, @to): `employees discover` shows them beside the provider's
-- user list. Deleted versions are hidden; calls with no user are left out.
-- Only the org's rows are read (see org_calls.sql).
SELECT user_id, count() AS calls
FROM
(
    SELECT
        argMax(user_id, version) AS user_id,
        argMax(started_at, version) AS started_at,
        argMax(deleted, version) AS is_deleted
    FROM raw_signals
    WHERE org = @org AND provider = @provider AND (provider, call_id) IN
    (
        SELECT provider, call_id
        FROM raw_signals
        WHERE org = @org AND provider = @provider AND started_at >= @from AND started_at < @to
    )
    GROUP BY provider, call_id
) AS current_calls
WHERE is_deleted = 0 AND started_at >= @from AND started_at < @to AND user_id != ''
GROUP BY user_id
ORDER BY user_id
