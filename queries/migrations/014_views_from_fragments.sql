-- employee_cycle_metrics from the blocks the review queries read
-- (queries/fragments: cycles_user_totals for the counts, employee_numbers
-- for the numbers, org_escalation for escalation availability), so a
-- review number has one definition; migration 013 restated them. Same
-- columns, and the same numbers but one: escalation_available is the
-- column the providers' decoders store on every call (1 where an org's
-- stored calls have it), not re-derived from the org's provider, so an org
-- with no stored call reads 0 (n/a). Every org's rows: the dirty days are
-- user_day_dirty's (stored_dirty_days) where the queries take @dirty.
-- cohort_cycle_baselines and cohort_cycle_baselines_published read this
-- view and need no change. Running it again rebuilds the same view.
DROP TABLE IF EXISTS employee_cycle_metrics;

CREATE VIEW IF NOT EXISTS employee_cycle_metrics AS
SELECT
    org,
    cycle_id,
    employee_id,
    name,
    cohort,
    provider_user_id,
    period_start,
    period_end,
    {employee_numbers},
    toUInt8(answer_calls > 0) AS answer_time_available
FROM
(
    SELECT *
    FROM
    (
        SELECT org, cycle_id, period_start, period_end, employee_id, name, cohort, provider_user_id
        FROM
        (
            SELECT org, employee_id, name, cohort, provider_user_id
            FROM employees_current
        ) AS roster
        ALL INNER JOIN
        (
            SELECT org, cycle_id, period_start, period_end
            FROM cycles_current
        ) AS roster_cycles USING (org)
    ) AS employee_cycles
    ALL LEFT JOIN
    (
        SELECT *, user_id AS provider_user_id
        FROM
        (
            {cycles_user_totals dirty="{stored_dirty_days}"}
        ) AS user_totals
    ) AS call_counts USING (org, cycle_id, provider_user_id)
) AS employee_counts
ANY LEFT JOIN
(
    {org_escalation}
) AS org_escalation USING (org);
