SELECT period_start, period_end
FROM cycles_current
WHERE org = ? AND cycle_id = ?
