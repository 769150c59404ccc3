-- Every cohort's baseline in one cycle.
SELECT cohort, cohort_size, median_total_calls
FROM cohort_cycle_baselines
WHERE org = ? AND cycle_id = ?
ORDER BY cohort
