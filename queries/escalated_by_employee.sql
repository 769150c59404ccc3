-- Escalated calls per employee in [from, to), every employee of the roster
-- (0 when none): an alert rule gets one series per employee that stays
-- Normal instead of going to No Data. Only meaningful where escalation is
-- detectable (Aircall); the caller refuses RingCentral orgs.
SELECT employee_id, name, cohort, escalated_calls
FROM
(
    SELECT employee_id, name, cohort, provider_user_id
    FROM employees_current
    WHERE org = ?
) AS roster
ALL LEFT JOIN
(
    SELECT user_id AS provider_user_id, countIf(escalated = 1) AS escalated_calls
    FROM calls_current
    WHERE org = ? AND deleted = 0 AND user_id != '' AND started_at >= ? AND started_at < ?
    GROUP BY provider_user_id
) AS escalations USING (provider_user_id)
ORDER BY employee_id
