-- Every cohort's baseline in one cycle: the rows of baseline.sql, with the
-- cohort.
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @cycle, @dirty.
SELECT
    cohort,
    cohort_size,
    {baseline_medians}
FROM
(
    SELECT
        cohort,
        {baseline_arrays}
    FROM
    (
        {cycle_employee_counts}
    ) AS employee_counts
    GROUP BY cohort
) AS cohorts
ORDER BY cohort
