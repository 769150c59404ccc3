-- The objects an analyst reads, exact as written (issue 18, section 1):
-- one per grain, each a view over the internal versioned tables, so a
-- plain `SELECT sum(...) ... WHERE org = '...'` gives the review's number.
--
--   call_metrics            per call: its current version, deleted calls left out
--   user_day_current        per org, UTC day, provider and provider user
--   employee_cycle_metrics  per org, cycle and employee (rebuilt here)
--   cohort_cycle_baselines, cohort_cycle_baselines_published
--                           per org, cycle and cohort (read employee_cycle_metrics)
--
-- Escalation is NULL, not 0, where the provider does not report it
-- (escalation_available = 0: RingCentral, or an org with no stored call),
-- so sum() and avg() over orgs skip it instead of counting a missing
-- number as none: escalated (call_metrics) and escalated_calls (the other
-- two) are Nullable. The review queries (queries/*.sql) read the tables,
-- not these views, and keep their output as it was.
--
-- The views read user_day_dirty (the days the refresher has not
-- recomputed yet) once per part that needs it. A refresh that finishes
-- while one such query runs can, in that one query, count the refreshed
-- day twice or not at all (user_day_current, employee_cycle_metrics); the
-- next query is exact again. The query files, which read the dirty days
-- once (@dirty), cannot. Running this file again rebuilds the same views.

-- employee_cycle_metrics as migration 014 made it, but escalated_calls
-- Nullable(UInt64): NULL where escalation_available is 0.
DROP TABLE IF EXISTS employee_cycle_metrics;

CREATE VIEW IF NOT EXISTS employee_cycle_metrics AS
SELECT
    org,
    cycle_id,
    employee_id,
    name,
    cohort,
    provider_user_id,
    period_start,
    period_end,
    total_calls,
    inbound_calls,
    outbound_calls,
    avg_duration_sec,
    after_hours_calls,
    if(escalation_available = 1, toNullable(escalated_count), NULL) AS escalated_calls,
    resolved_calls,
    escalation_available,
    answered_calls,
    missed_calls,
    voicemail_calls,
    talk_time_sec,
    avg_talk_sec,
    avg_answer_sec,
    answer_time_available
FROM
(
    SELECT *, escalated_calls AS escalated_count
    FROM
    (
        SELECT
            org,
            cycle_id,
            employee_id,
            name,
            cohort,
            provider_user_id,
            period_start,
            period_end,
            {employee_numbers},
            toUInt8(answer_calls > 0) AS answer_time_available
        FROM
        (
            SELECT *
            FROM
            (
                SELECT org, cycle_id, period_start, period_end, employee_id, name, cohort, provider_user_id
                FROM
                (
                    SELECT org, employee_id, name, cohort, provider_user_id
                    FROM employees_current
                ) AS roster
                ALL INNER JOIN
                (
                    SELECT org, cycle_id, period_start, period_end
                    FROM cycles_current
                ) AS roster_cycles USING (org)
            ) AS employee_cycles
            ALL LEFT JOIN
            (
                SELECT *, user_id AS provider_user_id
                FROM
                (
                    {cycles_user_totals dirty="{stored_dirty_days}"}
                ) AS user_totals
            ) AS call_counts USING (org, cycle_id, provider_user_id)
        ) AS employee_counts
        ANY LEFT JOIN
        (
            {org_escalation}
        ) AS org_escalation USING (org)
    ) AS numbers
) AS counted;

-- Per call: the current version (argMax over version) of every call not
-- deleted. escalated is NULL where escalation_available is 0, and
-- answer_sec where answer_available is 0 (no answer time reported).
CREATE VIEW IF NOT EXISTS call_metrics AS
SELECT
    org,
    provider,
    call_id,
    user_id,
    started_at,
    toDate(started_at) AS day,
    direction,
    duration_sec,
    status,
    after_hours,
    if(escalation_available = 1, toNullable(escalated_flag), NULL) AS escalated,
    escalation_available,
    resolved,
    answered,
    missed,
    voicemail,
    talk_sec,
    if(answer_available = 1, toNullable(answer_wait), NULL) AS answer_sec,
    answer_available,
    current_version AS version
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
        argMax(status, version) AS status,
        argMax(after_hours, version) AS after_hours,
        argMax(escalated, version) AS escalated_flag,
        argMax(escalation_available, version) AS escalation_available,
        argMax(resolved, version) AS resolved,
        argMax(answered, version) AS answered,
        argMax(missed, version) AS missed,
        argMax(voicemail, version) AS voicemail,
        argMax(talk_sec, version) AS talk_sec,
        argMax(answer_sec, version) AS answer_wait,
        argMax(answer_available, version) AS answer_available,
        argMax(deleted, version) AS is_deleted,
        max(version) AS current_version
    FROM raw_signals
    GROUP BY org, provider, call_id
) AS current_calls
WHERE is_deleted = 0;

-- Per org, UTC day, provider and provider user: one row per key with
-- calls, the newest version of each user_day_metrics key for the days the
-- refresher has recomputed, and the days it has not (stored_dirty_days)
-- counted from the current versions in raw_signals, as the review queries
-- do. Calls with no user are under user_id ''. escalated_calls is NULL
-- where the org's calls do not report escalation (org_escalation).
CREATE VIEW IF NOT EXISTS user_day_current AS
SELECT
    org,
    day,
    provider,
    user_id,
    total_calls AS calls,
    inbound_calls,
    outbound_calls,
    duration_sum,
    after_hours_calls,
    if(escalation_available = 1, toNullable(escalated_count), NULL) AS escalated_calls,
    resolved_calls,
    escalation_available,
    answered_calls,
    missed_calls,
    voicemail_calls,
    talk_sum AS talk_time_sec,
    answer_calls,
    answer_sum
FROM
(
    SELECT
        org,
        day,
        provider,
        user_id,
        sum(calls) AS total_calls,
        sum(inbound) AS inbound_calls,
        sum(outbound) AS outbound_calls,
        sum(duration) AS duration_sum,
        sum(after_hours) AS after_hours_calls,
        sum(escalated) AS escalated_count,
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
            day,
            provider,
            user_id,
            {day_counts}
        FROM user_day_metrics
        WHERE (org, day) NOT IN (
            {stored_dirty_days}
        )
        GROUP BY org, day, provider, user_id
        UNION ALL
        SELECT
            org,
            toDate(started_at) AS day,
            provider,
            user_id,
            {call_counts}
        FROM
        (
            SELECT
                org,
                provider,
                call_id,
                {current_version}
            FROM raw_signals
            WHERE (org, provider, call_id) IN
            (
                SELECT org, provider, call_id
                FROM raw_signals
                WHERE (org, toDate(started_at)) IN (
                    {stored_dirty_days}
                )
            )
            GROUP BY org, provider, call_id
        ) AS dirty_calls
        WHERE is_deleted = 0 AND (org, toDate(started_at)) IN (
            {stored_dirty_days}
        )
    ) AS day_parts
    GROUP BY org, day, provider, user_id
) AS days
ANY LEFT JOIN
(
    {org_escalation}
) AS org_escalation USING (org)
WHERE total_calls > 0;
