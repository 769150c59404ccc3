SELECT employee_id, name, email, cohort, provider_user_id
FROM employees_current
WHERE org = ?
ORDER BY employee_id
