-- Fragment {{cycle_user_totals}}: each provider user's counts of @org in
-- cycle @cycle. Whole UTC days come from user_day_metrics; the cycle's
-- boundary days and the @dirty days the loader has not recomputed yet come
-- from raw_signals. Columns: org, user_id, total_calls, inbound_calls,
-- outbound_calls, duration_sum, after_hours_calls, escalated_calls,
-- resolved_calls, and the talk-time sums answered_calls, missed_calls,
-- voicemail_calls, talk_sum, answer_calls, answer_sum (migration 013).
-- embed.go substitutes it.
SELECT
    org,
    user_id,
    sum(calls) AS total_calls,
    sum(inbound) AS inbound_calls,
    sum(outbound) AS outbound_calls,
    sum(duration) AS duration_sum,
    sum(after_hours) AS after_hours_calls,
    sum(escalated) AS escalated_calls,
    sum(resolved) AS resolved_calls,
    sum(n_answered) AS answered_calls,
    sum(n_missed) AS missed_calls,
    sum(n_voicemail) AS voicemail_calls,
    sum(talk) AS talk_sum,
    sum(n_timed) AS answer_calls,
    sum(answer_wait) AS answer_sum
FROM
(
    SELECT
        org,
        user_id,
        argMax(calls, version) AS calls,
        argMax(inbound_calls, version) AS inbound,
        argMax(outbound_calls, version) AS outbound,
        argMax(duration_sum, version) AS duration,
        argMax(after_hours_calls, version) AS after_hours,
        argMax(escalated_calls, version) AS escalated,
        argMax(resolved_calls, version) AS resolved,
        argMax(answered_calls, version) AS n_answered,
        argMax(missed_calls, version) AS n_missed,
        argMax(voicemail_calls, version) AS n_voicemail,
        argMax(talk_sum, version) AS talk,
        argMax(answer_calls, version) AS n_timed,
        argMax(answer_sum, version) AS answer_wait
    FROM user_day_metrics
    WHERE org = @org AND user_id != ''
        AND day >= toDate((SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle) + 86399)
        AND day < toDate((SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle))
        AND day NOT IN (
            SELECT toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty))))
        )
    GROUP BY org, day, provider, user_id
    UNION ALL
    SELECT
        org,
        user_id,
        {{call_counts}}
    FROM
    (
        SELECT
            org,
            {{current_version}}
        FROM raw_signals
        WHERE org = @org AND (provider, call_id) IN
        (
            SELECT provider, call_id
            FROM raw_signals
            WHERE org = @org
                AND started_at >= (SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)
                    AND started_at < (SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)
                    AND (started_at < toStartOfDay((SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle) + 86399)
                        OR started_at >= toStartOfDay((SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle))
                        OR toDate(started_at) IN (
                            SELECT toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty))))
                        ))
        )
        GROUP BY org, provider, call_id
    ) AS boundary_calls
    WHERE is_deleted = 0 AND user_id != ''
        AND started_at >= (SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)
            AND started_at < (SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)
            AND (started_at < toStartOfDay((SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle) + 86399)
                OR started_at >= toStartOfDay((SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle))
                OR toDate(started_at) IN (
                    SELECT toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty))))
                ))
) AS cycle_parts
GROUP BY org, user_id
