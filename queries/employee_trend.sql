-- One employee's review numbers in every cycle of the org, oldest first:
-- the Grafana employee page's trend across cycles.
SELECT
    cycle_id,
    period_start,
    period_end,
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
WHERE org = ? AND employee_id = ?
ORDER BY period_start, cycle_id
