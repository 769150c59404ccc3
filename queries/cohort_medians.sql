-- Per cycle and cohort of one org: the exact median of each review number
-- over the cohort's employees (those with no calls count as 0), the mean of
-- the two middle values when the count is even: the baselines the Grafana
-- team and employee pages show beside each number. Same sorted-array
-- method as cohort_cycle_baselines, so total_calls agrees with it exactly.
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
    escalation_available
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
        min(escalation_available) AS escalation_available
    FROM employee_cycle_metrics
    WHERE org = ?
    GROUP BY cycle_id, cohort
)
ORDER BY cycle_id, cohort
