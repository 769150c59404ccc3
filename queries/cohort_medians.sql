-- Per cycle and cohort of one org: the exact median of each review number
-- over the cohort's employees (those with no calls count as 0), the mean of
-- the two middle values when the count is even: the baselines the Grafana
-- team and employee pages show beside each number. Same sorted-array
-- method as cohort_cycle_baselines, so total_calls agrees with it exactly.
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @dirty.
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
    cycle_id,
    cohort,
    cohort_size,
    if(cohort_size % 2 = 1, toFloat64(s_total[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_total[intDiv(cohort_size, 2)]) + toFloat64(s_total[intDiv(cohort_size, 2) + 1])) / 2) AS median_total_calls,
    if(cohort_size % 2 = 1, toFloat64(s_in[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_in[intDiv(cohort_size, 2)]) + toFloat64(s_in[intDiv(cohort_size, 2) + 1])) / 2) AS median_inbound_calls,
    if(cohort_size % 2 = 1, toFloat64(s_out[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_out[intDiv(cohort_size, 2)]) + toFloat64(s_out[intDiv(cohort_size, 2) + 1])) / 2) AS median_outbound_calls,
    if(cohort_size % 2 = 1, toFloat64(s_avg[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_avg[intDiv(cohort_size, 2)]) + toFloat64(s_avg[intDiv(cohort_size, 2) + 1])) / 2) AS median_avg_duration_sec,
    if(cohort_size % 2 = 1, toFloat64(s_after[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_after[intDiv(cohort_size, 2)]) + toFloat64(s_after[intDiv(cohort_size, 2) + 1])) / 2) AS median_after_hours_calls,
    if(cohort_size % 2 = 1, toFloat64(s_esc[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_esc[intDiv(cohort_size, 2)]) + toFloat64(s_esc[intDiv(cohort_size, 2) + 1])) / 2) AS median_escalated_calls,
    if(cohort_size % 2 = 1, toFloat64(s_res[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_res[intDiv(cohort_size, 2)]) + toFloat64(s_res[intDiv(cohort_size, 2) + 1])) / 2) AS median_resolved_calls,
    escalation_available,
    if(cohort_size % 2 = 1, toFloat64(s_answered[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_answered[intDiv(cohort_size, 2)]) + toFloat64(s_answered[intDiv(cohort_size, 2) + 1])) / 2) AS median_answered_calls,
    if(cohort_size % 2 = 1, toFloat64(s_missed[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_missed[intDiv(cohort_size, 2)]) + toFloat64(s_missed[intDiv(cohort_size, 2) + 1])) / 2) AS median_missed_calls,
    if(cohort_size % 2 = 1, toFloat64(s_voicemail[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_voicemail[intDiv(cohort_size, 2)]) + toFloat64(s_voicemail[intDiv(cohort_size, 2) + 1])) / 2) AS median_voicemail_calls,
    if(cohort_size % 2 = 1, toFloat64(s_talk[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_talk[intDiv(cohort_size, 2)]) + toFloat64(s_talk[intDiv(cohort_size, 2) + 1])) / 2) AS median_talk_time_sec,
    if(cohort_size % 2 = 1, toFloat64(s_avg_talk[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_avg_talk[intDiv(cohort_size, 2)]) + toFloat64(s_avg_talk[intDiv(cohort_size, 2) + 1])) / 2) AS median_avg_talk_sec
FROM
(
    SELECT
        cycle_id,
        cohort,
        count() AS cohort_size,
        arraySort(groupArray(total_calls)) AS s_total,
        arraySort(groupArray(inbound_calls)) AS s_in,
        arraySort(groupArray(outbound_calls)) AS s_out,
        arraySort(groupArray(avg_duration_sec)) AS s_avg,
        arraySort(groupArray(after_hours_calls)) AS s_after,
        arraySort(groupArray(escalated_calls)) AS s_esc,
        arraySort(groupArray(resolved_calls)) AS s_res,
        min(escalation_available) AS escalation_available,
        arraySort(groupArray(answered_calls)) AS s_answered,
        arraySort(groupArray(missed_calls)) AS s_missed,
        arraySort(groupArray(voicemail_calls)) AS s_voicemail,
        arraySort(groupArray(talk_time_sec)) AS s_talk,
        arraySort(groupArray(avg_talk_sec)) AS s_avg_talk
    FROM
    (
        SELECT
            cycle_id,
            cohort,
            {employee_numbers}
        FROM
        (
            {cycles_employee_counts}
        ) AS employee_counts
        ANY LEFT JOIN
        (
            {org_escalation where=" WHERE org = @org"}
        ) AS org_escalation USING (org)
    ) AS employee_metrics
    GROUP BY cycle_id, cohort
) AS cohorts
ORDER BY cycle_id, cohort
