-- Fragment {cycle_user_totals}: each provider user's counts of @org in
-- cycle @cycle. Whole UTC days come from user_day_metrics; the cycle's
-- boundary days and the @dirty days the loader has not recomputed yet come
-- from raw_signals. Columns: org, user_id, total_calls, inbound_calls,
-- outbound_calls, duration_sum, after_hours_calls, escalated_calls,
-- resolved_calls, and the talk-time sums answered_calls, missed_calls,
-- voicemail_calls, talk_sum, answer_calls, answer_sum (migration 013).
-- The cycle's bounds are written once, in cycle_bound.sql, and the
-- boundary condition once, in cycle_raw_part.sql.
SELECT
    org,
    user_id,
    {count_sums}
FROM
(
    SELECT
        org,
        user_id,
        {day_counts}
    FROM user_day_metrics
    WHERE org = @org AND user_id != ''
        AND day >= toDate({cycle_bound bound="period_start"} + 86399)
        AND day < toDate({cycle_bound bound="period_end"})
        AND day NOT IN (
            SELECT {dirty_days}
        )
    GROUP BY org, day, provider, user_id
    UNION ALL
    SELECT
        org,
        user_id,
        {call_counts}
    FROM
    (
        SELECT
            org,
            {current_version}
        FROM raw_signals
        WHERE org = @org AND (provider, call_id) IN
        (
            SELECT provider, call_id
            FROM raw_signals
            WHERE org = @org
                {cycle_raw_part}
        )
        GROUP BY org, provider, call_id
    ) AS boundary_calls
    WHERE is_deleted = 0 AND user_id != ''
        {cycle_raw_part}
) AS cycle_parts
GROUP BY org, user_id
