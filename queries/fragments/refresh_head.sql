-- The head of the refresh statements (queries/aggregate/refresh_*.sql):
-- the INSERT of one org's per-day rows under @version, from the current
-- version (argMax) of each call read from raw_signals; the statement
-- follows with its own WHERE on that read, then refresh_tail.
INSERT INTO user_day_metrics (org, day, provider, user_id, calls, inbound_calls, outbound_calls, duration_sum, after_hours_calls, escalated_calls, resolved_calls, answered_calls, missed_calls, voicemail_calls, talk_sum, answer_calls, answer_sum, version)
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
    sum(n_answered),
    sum(n_missed),
    sum(n_voicemail),
    sum(talk),
    sum(n_timed),
    sum(answer_wait),
    toUInt64(@version)
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
        FROM raw_signals
