-- Calls per week (weeks start on Monday, UTC) by direction and outcome in
-- [from, to): of one employee (the provider user mapped to them now), or of
-- the whole org when the employee is ''. Deleted calls count nowhere.
SELECT toDateTime(toMonday(started_at), 'UTC') AS week, direction, status AS outcome, count() AS calls
FROM calls_current
WHERE org = ? AND deleted = 0 AND started_at >= ? AND started_at < ?
    AND (? = '' OR user_id IN (SELECT provider_user_id FROM employees_current WHERE org = ? AND employee_id = ?))
GROUP BY week, direction, outcome
ORDER BY week, direction, outcome
