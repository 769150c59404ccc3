-- Every employee's numbers in one cycle, for summaries and exports: the
-- rows of review.sql (whose comment says how they are read), with the
-- employee_id.
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @cycle, @dirty.
SELECT
    employee_id,
    name,
    cohort,
    {employee_numbers}
FROM
(
    {cycle_employee_counts}
) AS employee_counts
ANY LEFT JOIN
(
    {org_escalation where=" WHERE org = @org"}
) AS org_escalation USING (org)
ORDER BY employee_id
