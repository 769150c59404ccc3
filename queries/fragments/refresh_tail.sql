-- The tail of the refresh statements: the calls grouped by call, those
-- current and not deleted on the statement's days ({days}) counted, plus
-- explicit zero rows for every key those days held, grouped once by key.
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
        toUInt64(0) AS resolved,
        toUInt64(0) AS n_answered,
        toUInt64(0) AS n_missed,
        toUInt64(0) AS n_voicemail,
        toUInt64(0) AS talk,
        toUInt64(0) AS n_timed,
        toUInt64(0) AS answer_wait
    FROM user_day_metrics
    WHERE org = @org AND day >= toDate(@from) AND day < toDate(@to)
        AND day IN ({days})
) AS fresh
GROUP BY day, provider, user_id
