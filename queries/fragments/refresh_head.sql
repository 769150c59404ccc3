-- The head of the refresh statements (queries/aggregate/refresh_*.sql):
-- the INSERT of one org's per-day rows under @version, from the current
-- version (argMax) of each call read from raw_signals; the statement
-- follows with its own WHERE on that read, then refresh_tail.
INSERT INTO user_day_metrics (org, day, provider, user_id, calls, inbound_calls, outbound_calls, duration_sum, after_hours_calls, escalated_calls, resolved_calls, version)
SELECT
    @org AS org,
    day,
    provider,
    user_id,
    sum(calls),
    sum(inbound),
    sum(outbound),
    sum(duration),
    sum(after_hours),
    sum(escalated),
    sum(resolved),
    toUInt64(@version)
FROM
(
    SELECT
        toDate(started_at) AS day,
        provider,
        user_id,
        toUInt64(1) AS calls,
        toUInt64(direction = 'inbound') AS inbound,
        toUInt64(direction = 'outbound') AS outbound,
        toUInt64(duration_sec) AS duration,
        toUInt64(after_hours = 1) AS after_hours,
        toUInt64(escalated = 1) AS escalated,
        toUInt64(resolved = 1) AS resolved
    FROM
    (
        SELECT
            provider,
            call_id,
            argMax(user_id, version) AS user_id,
            argMax(started_at, version) AS started_at,
            argMax(direction, version) AS direction,
            argMax(duration_sec, version) AS duration_sec,
            argMax(after_hours, version) AS after_hours,
            argMax(escalated, version) AS escalated,
            argMax(resolved, version) AS resolved,
            argMax(deleted, version) AS is_deleted
        FROM raw_signals
