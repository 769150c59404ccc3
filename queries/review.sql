-- The [PHONE DATA] numbers of one employee in one cycle, then the
-- talk-time numbers (migration 013; avg_answer_sec NULL where n/a): the
-- employee's row of cycle_metrics.sql.
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @cycle, @employee, @dirty.
-- Every read filters on the org in its innermost query, so the cost is the
-- org's employees x days, whatever other orgs the store holds and however
-- many calls the org has: whole UTC days come from the exact per-day
-- aggregates (user_day_metrics, kept by the loader); the boundary days of
-- a cycle that starts or ends mid-day, and the days the loader has not
-- recomputed yet, from raw_signals. @dirty lists those days of the org
-- ('YYYY-MM-DD,...', '' for none; queries/aggregate/dirty_days_of_org.sql),
-- read once by the caller so every part of the query agrees on them even
-- while a refresh completes. A provider
-- user counts for one employee (migration 005's rule). ClickHouse 18.16
-- does not push a WHERE through a view's joins: this file, not the
-- employee_cycle_metrics view, is what to run there for one org.
SELECT
    name,
    cohort,
    {employee_numbers}
FROM
(
    {cycle_employee_counts employees=" AND employee_id = @employee"}
) AS employee_counts
ANY LEFT JOIN
(
    {org_escalation where=" WHERE org = @org"}
) AS org_escalation USING (org)
