-- Every employee's numbers in one cycle, for summaries and exports (the
-- seed's seven, then the talk-time ones as in review.sql).
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @cycle, @dirty.
-- Every read filters on the org in its innermost query, so the cost is the
-- org's employees x days, whatever other orgs the store holds and however
-- many calls the org has: whole UTC days come from the exact per-day
-- aggregates (user_day_metrics, kept by the loader); the boundary days of
-- a cycle that starts or ends mid-day, and the days the loader has not
-- recomputed yet, from raw_signals. @dirty lists those days of the org
-- ('YYYY-MM-DD,...', '' for none; queries/aggregate/dirty_days_of_org.sql),
-- read once by the caller so every part of the query agrees on them even
-- while a refresh completes. A provider
-- user counts for one employee (migration 005's rule). ClickHouse 18.16
-- does not push a WHERE through a view's joins: this file, not the
-- employee_cycle_metrics view, is what to run there for one org.
SELECT
    employee_id,
    name,
    cohort,
    total_calls,
    inbound_calls,
    outbound_calls,
    if(total_calls = 0, toUInt64(0), intDiv(2 * duration_sum + total_calls, 2 * greatest(total_calls, toUInt64(1)))) AS avg_duration_sec,
    after_hours_calls,
    escalated_calls,
    resolved_calls,
    if(provider = 'ringcentral', toUInt8(0), toUInt8(1)) AS escalation_available,
    answered_calls,
    missed_calls,
    voicemail_calls,
    talk_sum AS talk_time_sec,
    if(answered_calls = 0, toUInt64(0), intDiv(2 * talk_sum + answered_calls, 2 * greatest(answered_calls, toUInt64(1)))) AS avg_talk_sec,
    if(answer_calls = 0, NULL, intDiv(2 * answer_sum + answer_calls, 2 * greatest(answer_calls, toUInt64(1)))) AS avg_answer_sec
FROM
(
    SELECT *
    FROM
    (
        SELECT *
        FROM
        (
            {{mapped_roster}}
        ) AS roster
        ALL INNER JOIN
        (
            SELECT org
            FROM cycles
            WHERE org = @org AND cycle_id = @cycle
            GROUP BY org
        ) AS cycle_row USING (org)
    ) AS roster_in_cycle
    ALL LEFT JOIN
    (
        {{cycle_user_totals}}
    ) AS user_totals USING (org, user_id)
) AS employee_counts
ANY LEFT JOIN
(
    SELECT org, argMax(provider, version) AS provider
    FROM orgs
    WHERE org = @org
    GROUP BY org
) AS org_provider USING (org)
ORDER BY employee_id
