-- Recomputes the user_day_metrics rows of the given (org, UTC day) keys
-- from raw_signals, as absolute values under one new @version: each
-- call's current version (argMax over all of its versions, on any day)
-- counts on its own start day unless deleted. Keys of those days that
-- hold no call any more (a call deleted, moved to another user or day)
-- get explicit zero rows, so the newest version of every key is right.
-- Idempotent: running it again, or after a batch was loaded twice or
-- partly, writes the same numbers. The orgs and org_days markers are literal
-- lists rendered by queries.RenderDayKeys; @from and @to bound the days.
INSERT INTO user_day_metrics (org, day, provider, user_id, calls, inbound_calls, outbound_calls, duration_sum, after_hours_calls, escalated_calls, resolved_calls, version)
SELECT
    org,
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
        org,
        toDate(started_at) AS day,
        provider,
        user_id,
        count() AS calls,
        countIf(direction = 'inbound') AS inbound,
        countIf(direction = 'outbound') AS outbound,
        sum(toUInt64(duration_sec)) AS duration,
        countIf(after_hours = 1) AS after_hours,
        countIf(escalated = 1) AS escalated,
        countIf(resolved = 1) AS resolved
    FROM
    (
        SELECT
            org,
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
        WHERE org IN ({orgs}) AND (org, provider, call_id) IN
        (
            SELECT org, provider, call_id
            FROM raw_signals
            WHERE org IN ({orgs}) AND started_at >= @from AND started_at < @to
                AND (org, toDate(started_at)) IN ({org_days})
        )
        GROUP BY org, provider, call_id
    ) AS current_calls
    WHERE is_deleted = 0 AND (org, toDate(started_at)) IN ({org_days})
    GROUP BY org, day, provider, user_id
    UNION ALL
    SELECT
        org,
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
    WHERE org IN ({orgs}) AND day >= toDate(@from) AND day < toDate(@to)
        AND (org, day) IN ({org_days})
    GROUP BY org, day, provider, user_id
) AS fresh
GROUP BY org, day, provider, user_id
