-- The [BASELINES] numbers of one cohort in one cycle: the exact median of
-- total_calls over the cohort's employees (zeros included), the mean of the
-- two middle values when the count is even.
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @cycle, @cohort, @dirty.
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
    cohort_size,
    if(cohort_size % 2 = 1,
        toFloat64(sorted[intDiv(cohort_size, 2) + 1]),
        (toFloat64(sorted[intDiv(cohort_size, 2)]) + toFloat64(sorted[intDiv(cohort_size, 2) + 1])) / 2) AS median_total_calls
FROM
(
    SELECT
        cohort,
        count() AS cohort_size,
        arraySort(groupArray(total_calls)) AS sorted
    FROM
    (
        SELECT *
        FROM
        (
            SELECT *
            FROM
            (
                {{mapped_roster roster=" AND cohort = @cohort"}}
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
