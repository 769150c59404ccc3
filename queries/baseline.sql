-- The [BASELINES] numbers of one cohort in one cycle: the exact median of
-- total_calls over the cohort's employees (zeros included), the mean of the
-- two middle values when the count is even; then the same medians of the
-- talk-time numbers (answered, missed, voicemail, talk time and average
-- talk time; migration 013), which `review --extended` shows. The
-- employees' numbers are read as review.sql reads them (see its comment).
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @cycle, @cohort, @dirty.
SELECT
    cohort_size,
    {baseline_medians}
FROM
(
    SELECT
        cohort,
        {baseline_arrays}
    FROM
    (
        {cycle_employee_counts roster=" AND cohort = @cohort"}
    ) AS employee_counts
    GROUP BY cohort
) AS cohorts
