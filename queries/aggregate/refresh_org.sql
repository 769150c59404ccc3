-- Recomputes the user_day_metrics rows of some days ({days}) of one org
-- (@org) from raw_signals, exactly as refresh_days.sql does (same rows),
-- but by grouping ALL of the org's calls and keeping those whose current
-- version starts on one of the days: a call's current version is on a day
-- only if the call has a version there, so no call is missed. Cheaper than
-- refresh_days.sql's subquery once the days hold a large share of the
-- org's calls (a backfill, a stream spread over its whole history): on
-- 18.16 the subquery's set of calls cost as much as the grouping itself.
-- load/refresh.go chooses the form per statement. {days} is rendered by
-- queries.RenderDays; @from and @to bound the days.
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
        WHERE org = @org
        GROUP BY provider, call_id
    ) AS current_calls
    WHERE is_deleted = 0 AND toDate(started_at) IN ({days})
    UNION ALL
    SELECT
        day,
        provider,
        user_id,
        toUInt64(0) AS calls,
        toUInt64(0) AS inbound,
        toUInt64(0) AS outbound,
        toUInt64(0) AS duration,
        toUInt64(0) AS after_hours,
        toUInt64(0) AS escalated,
        toUInt64(0) AS resolved
    FROM user_day_metrics
    WHERE org = @org AND day >= toDate(@from) AND day < toDate(@to)
        AND day IN ({days})
) AS fresh
GROUP BY day, provider, user_id
