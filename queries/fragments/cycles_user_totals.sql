-- Fragment {cycles_user_totals}: the same counts as cycle_user_totals.sql
-- for every cycle at once, keyed by cycle_id. Columns: org, cycle_id,
-- user_id and the counts. Its slots say which orgs and which days are
-- dirty, so the one-org reads (cycles_employee_counts: org="org = @org AND "
-- where=" WHERE org = @org" dirty="{org_dirty_days}") and the
-- employee_cycle_metrics view (every org, the dirty days user_day_dirty
-- holds) count alike: dirty= is a query of (org, day) pairs.
SELECT
    org,
    cycle_id,
    user_id,
    {count_sums}
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
            {day_counts}
        FROM user_day_metrics
        WHERE {?org}user_id != ''
            AND (org, day) NOT IN (
                {?dirty}
            )
        GROUP BY org, day, provider, user_id
    ) AS days
    ALL INNER JOIN
    (
        {org_cycles where="{?where}"}
    ) AS day_cycles USING (org)
    WHERE day >= toDate(period_start + 86399) AND day < toDate(period_end)
    UNION ALL
    SELECT
        org,
        cycle_id,
        user_id,
        {call_counts}
    FROM
    (
        SELECT
            org,
            {current_version}
        FROM raw_signals
        WHERE {?org}(org, provider, call_id) IN
        (
            SELECT org, provider, call_id
            FROM raw_signals
            WHERE {?org}(org, toDate(started_at)) IN
            (
                SELECT org, toDate(period_start) FROM
                (
                    {org_cycles where="{?where}"}
                ) AS starts WHERE toStartOfDay(period_start) != period_start
                UNION ALL
                SELECT org, toDate(period_end) FROM
                (
                    {org_cycles where="{?where}"}
                ) AS ends WHERE toStartOfDay(period_end) != period_end
                UNION ALL
                SELECT org, day FROM (
                    {?dirty}
                ) AS dirty
            )
        )
        GROUP BY org, provider, call_id
    ) AS boundary_calls
    ALL INNER JOIN
    (
        {org_cycles where="{?where}"}
    ) AS boundary_cycles USING (org)
    WHERE is_deleted = 0 AND user_id != ''
        AND started_at >= period_start AND started_at < period_end
        AND (started_at < toStartOfDay(period_start + 86399) OR started_at >= toStartOfDay(period_end)
            OR (org, toDate(started_at)) IN (
                {?dirty}
            ))
) AS cycle_parts
GROUP BY org, cycle_id, user_id
