-- Every cohort's baseline in one cycle (see baseline.sql).
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
    cohort,
    cohort_size,
    if(cohort_size % 2 = 1,
        toFloat64(sorted[intDiv(cohort_size, 2) + 1]),
        (toFloat64(sorted[intDiv(cohort_size, 2)]) + toFloat64(sorted[intDiv(cohort_size, 2) + 1])) / 2) AS median_total_calls,
    if(cohort_size % 2 = 1,
        toFloat64(s_answered[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_answered[intDiv(cohort_size, 2)]) + toFloat64(s_answered[intDiv(cohort_size, 2) + 1])) / 2) AS median_answered_calls,
    if(cohort_size % 2 = 1,
        toFloat64(s_missed[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_missed[intDiv(cohort_size, 2)]) + toFloat64(s_missed[intDiv(cohort_size, 2) + 1])) / 2) AS median_missed_calls,
    if(cohort_size % 2 = 1,
        toFloat64(s_voicemail[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_voicemail[intDiv(cohort_size, 2)]) + toFloat64(s_voicemail[intDiv(cohort_size, 2) + 1])) / 2) AS median_voicemail_calls,
    if(cohort_size % 2 = 1,
        toFloat64(s_talk[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_talk[intDiv(cohort_size, 2)]) + toFloat64(s_talk[intDiv(cohort_size, 2) + 1])) / 2) AS median_talk_time_sec,
    if(cohort_size % 2 = 1,
        toFloat64(s_avg_talk[intDiv(cohort_size, 2) + 1]),
        (toFloat64(s_avg_talk[intDiv(cohort_size, 2)]) + toFloat64(s_avg_talk[intDiv(cohort_size, 2) + 1])) / 2) AS median_avg_talk_sec
FROM
(
    SELECT
        cohort,
        count() AS cohort_size,
        arraySort(groupArray(total_calls)) AS sorted,
        arraySort(groupArray(answered_calls)) AS s_answered,
        arraySort(groupArray(missed_calls)) AS s_missed,
        arraySort(groupArray(voicemail_calls)) AS s_voicemail,
        arraySort(groupArray(talk_sum)) AS s_talk,
        arraySort(groupArray(if(answered_calls = 0, toUInt64(0), intDiv(2 * talk_sum + answered_calls, 2 * greatest(answered_calls, toUInt64(1)))))) AS s_avg_talk
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
    GROUP BY cohort
) AS cohorts
ORDER BY cohort
