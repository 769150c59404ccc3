-- The [BASELINES] numbers of one cohort in one cycle.
SELECT cohort_size, median_total_calls
FROM cohort_cycle_baselines
WHERE org = ? AND cycle_id = ? AND cohort = ?
