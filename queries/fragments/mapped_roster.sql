-- Fragment {mapped_roster}: the live employees of @org, each with the
-- provider user it owns (user_id; '' when another employee owns its mapped
-- user: migration 005's one-owner rule). Columns: org, employee_id, name,
-- cohort, user_id. Two slots narrow it where a query needs less:
-- employees= adds to the WHERE over the employees table (one employee),
-- roster= to the WHERE over the live roster (one cohort).
SELECT org, employee_id, name, cohort, if(provider_user_id = '' OR owner = employee_id, provider_user_id, '') AS user_id
FROM
(
    SELECT org, employee_id, name, cohort, provider_user_id, owner
    FROM
    (
        SELECT org, employee_id, name, cohort, provider_user_id
        FROM
        (
            SELECT
                org,
                employee_id,
                argMax(name, version) AS name,
                argMax(cohort, version) AS cohort,
                argMax(provider_user_id, version) AS provider_user_id,
                argMax(deleted, version) AS is_deleted
            FROM employees
            WHERE org = @org{?employees}
            GROUP BY org, employee_id
        ) AS latest
        WHERE is_deleted = 0{?roster}
    ) AS roster
    ALL LEFT JOIN
    (
        {owners}
    ) AS owners USING (org, provider_user_id)
) AS mapped_roster
