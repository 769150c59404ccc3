-- Fragment {{cycles_user_totals}}: the same counts as
-- cycle_user_totals.sql for every cycle of @org at once, keyed by cycle_id.
-- Columns: org, cycle_id, user_id and the counts. embed.go substitutes it.
SELECT
    org,
    cycle_id,
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
    SELECT org, cycle_id, user_id, calls, inbound, outbound, duration, after_hours, escalated, resolved,
        n_answered, n_missed, n_voicemail, talk, n_timed, answer_wait
    FROM
    (
        SELECT
            org,
            day,
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
            AND (org, day) NOT IN (
                SELECT @org AS org, toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty)))) AS day
            )
        GROUP BY org, day, provider, user_id
    ) AS days
    ALL INNER JOIN
    (
        SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
        FROM cycles WHERE org = @org
        GROUP BY org, cycle_id
    ) AS day_cycles USING (org)
    WHERE day >= toDate(period_start + 86399) AND day < toDate(period_end)
    UNION ALL
    SELECT
        org,
        cycle_id,
        user_id,
        {{call_counts}}
    FROM
    (
        SELECT
            org,
            {{current_version}}
        FROM raw_signals
        WHERE org = @org AND (org, provider, call_id) IN
        (
            SELECT org, provider, call_id
            FROM raw_signals
            WHERE org = @org AND (org, toDate(started_at)) IN
            (
                SELECT org, toDate(period_start) FROM (SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
        FROM cycles WHERE org = @org
        GROUP BY org, cycle_id) AS starts WHERE toStartOfDay(period_start) != period_start
                UNION ALL
                SELECT org, toDate(period_end) FROM (SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
        FROM cycles WHERE org = @org
        GROUP BY org, cycle_id) AS ends WHERE toStartOfDay(period_end) != period_end
                UNION ALL
                SELECT org, day FROM (
                    SELECT @org AS org, toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty)))) AS day
                ) AS dirty
            )
        )
        GROUP BY org, provider, call_id
    ) AS boundary_calls
    ALL INNER JOIN
    (
        SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
        FROM cycles WHERE org = @org
        GROUP BY org, cycle_id
    ) AS boundary_cycles USING (org)
    WHERE is_deleted = 0 AND user_id != ''
        AND started_at >= period_start AND started_at < period_end
        AND (started_at < toStartOfDay(period_start + 86399) OR started_at >= toStartOfDay(period_end)
            OR (org, toDate(started_at)) IN (
                SELECT @org AS org, toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty)))) AS day
            ))
) AS cycle_parts
GROUP BY org, cycle_id, user_id
