-- Every stored version of one employee (@employee) of one org (@org),
-- removed from the roster or not, oldest first: `employees forget` erases
-- the calls of each provider user the employee was ever mapped to that no
-- other employee owns now.
SELECT provider_user_id, deleted, version
FROM employees
WHERE org = @org AND employee_id = @employee
ORDER BY version, provider_user_id
