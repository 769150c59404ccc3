SELECT cycle_id, period_start, period_end
FROM cycles_current
WHERE org = ?
ORDER BY period_start, cycle_id
