-- The (day, provider, user) keys of one org (@org) on the days [@from,
-- @to) whose numbers in user_day_metrics (the newest version of each key)
-- differ from the current versions of the org's calls in raw_signals:
-- `phonesignals aggregates verify` lists them. A key missing on one side
-- reads as zeros there (explicit zero rows and no row agree). The caller
-- leaves out days that are dirty (reads take those from raw_signals until
-- the refresher recomputes them). Columns: day, provider, user_id, then the
-- thirteen stored numbers (calls, inbound, outbound, duration, after_hours,
-- escalated, resolved, and migration 013's answered, missed, voicemail,
-- talk, timed answers and their time to answer) and the thirteen
-- recomputed ones.
SELECT
    day,
    provider,
    user_id,
    a_calls, a_inbound, a_outbound, a_duration, a_after_hours, a_escalated, a_resolved,
    a_answered, a_missed, a_voicemail, a_talk, a_timed, a_answer_wait,
    r_calls, r_inbound, r_outbound, r_duration, r_after_hours, r_escalated, r_resolved,
    r_answered, r_missed, r_voicemail, r_talk, r_timed, r_answer_wait
FROM
(
    SELECT
        day,
        provider,
        user_id,
        argMax(calls, version) AS a_calls,
        argMax(inbound_calls, version) AS a_inbound,
        argMax(outbound_calls, version) AS a_outbound,
        argMax(duration_sum, version) AS a_duration,
        argMax(after_hours_calls, version) AS a_after_hours,
        argMax(escalated_calls, version) AS a_escalated,
        argMax(resolved_calls, version) AS a_resolved,
        argMax(answered_calls, version) AS a_answered,
        argMax(missed_calls, version) AS a_missed,
        argMax(voicemail_calls, version) AS a_voicemail,
        argMax(talk_sum, version) AS a_talk,
        argMax(answer_calls, version) AS a_timed,
        argMax(answer_sum, version) AS a_answer_wait
    FROM user_day_metrics
    WHERE org = @org AND day >= toDate(@from) AND day < toDate(@to)
    GROUP BY day, provider, user_id
) AS stored
ALL FULL OUTER JOIN
(
    SELECT
        day,
        provider,
        user_id,
        sum(calls) AS r_calls,
        sum(inbound) AS r_inbound,
        sum(outbound) AS r_outbound,
        sum(duration) AS r_duration,
        sum(after_hours) AS r_after_hours,
        sum(escalated) AS r_escalated,
        sum(resolved) AS r_resolved,
        sum(n_answered) AS r_answered,
        sum(n_missed) AS r_missed,
        sum(n_voicemail) AS r_voicemail,
        sum(talk) AS r_talk,
        sum(n_timed) AS r_timed,
        sum(answer_wait) AS r_answer_wait
    FROM
    (
        SELECT
            toDate(started_at) AS day,
            provider,
            user_id,
            {call_counts}
        FROM
        (
            SELECT
                provider,
                call_id,
                {current_version}
            {range_calls}
        ) AS current_calls
        WHERE is_deleted = 0 AND started_at >= @from AND started_at < @to
    ) AS counted
    GROUP BY day, provider, user_id
) AS recomputed USING (day, provider, user_id)
WHERE a_calls != r_calls OR a_inbound != r_inbound OR a_outbound != r_outbound OR a_duration != r_duration
    OR a_after_hours != r_after_hours OR a_escalated != r_escalated OR a_resolved != r_resolved
    OR a_answered != r_answered OR a_missed != r_missed OR a_voicemail != r_voicemail OR a_talk != r_talk
    OR a_timed != r_timed OR a_answer_wait != r_answer_wait
ORDER BY day, provider, user_id
