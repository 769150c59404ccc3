-- Removes every version of one employee (@employee) of one org.
ALTER TABLE employees DELETE
WHERE org = @org AND employee_id = @employee
