-- Every employee's numbers in one cycle, for summaries and exports.
SELECT
    employee_id,
    name,
    cohort,
    total_calls,
    inbound_calls,
    outbound_calls,
    avg_duration_sec,
    after_hours_calls,
    escalated_calls,
    resolved_calls,
    escalation_available
FROM employee_cycle_metrics
WHERE org = ? AND cycle_id = ?
ORDER BY employee_id
