-- One provider user counts for one employee, whatever is stored.
-- `employees import` refuses a provider user already mapped to another
-- active employee, but rows written before that check (or by two imports
-- racing) can still map one user to two employees; every view joins calls
-- through employees_current, so it keeps the mapping of one owner only:
-- the employee whose row is newest, the smallest employee_id on a tie.
-- The others stay on the roster with an empty provider_user_id (no calls).
DROP TABLE IF EXISTS employees_current;

CREATE VIEW IF NOT EXISTS employees_current AS
SELECT
    org,
    employee_id,
    name,
    email,
    cohort,
    if(provider_user_id = '' OR owner = employee_id, provider_user_id, '') AS provider_user_id
FROM
(
-- 18.16 resolves a right-side column of a join only in the join's own
-- SELECT, so the owner is selected here and compared above.
SELECT org, employee_id, name, email, cohort, provider_user_id, owner
FROM
(
    SELECT org, employee_id, name, email, cohort, provider_user_id
    FROM
    (
        SELECT
            org,
            employee_id,
            argMax(name, version) AS name,
            argMax(email, version) AS email,
            argMax(cohort, version) AS cohort,
            argMax(provider_user_id, version) AS provider_user_id,
            argMax(deleted, version) AS is_deleted
        FROM employees
        GROUP BY org, employee_id
    ) AS latest
    WHERE is_deleted = 0
) AS roster
ALL LEFT JOIN
(
    SELECT org, provider_user_id, min(employee_id) AS owner
    FROM
    (
        SELECT org, employee_id, provider_user_id, row_version, top_version
        FROM
        (
            SELECT
                org,
                employee_id,
                argMax(provider_user_id, version) AS provider_user_id,
                argMax(deleted, version) AS is_deleted,
                max(version) AS row_version
            FROM employees
            GROUP BY org, employee_id
        ) AS mapped
        ALL INNER JOIN
        (
            SELECT org, provider_user_id, max(row_version) AS top_version
            FROM
            (
                SELECT
                    org,
                    employee_id,
                    argMax(provider_user_id, version) AS provider_user_id,
                    argMax(deleted, version) AS is_deleted,
                    max(version) AS row_version
                FROM employees
                GROUP BY org, employee_id
            ) AS mapped_again
            WHERE is_deleted = 0 AND provider_user_id != ''
            GROUP BY org, provider_user_id
        ) AS newest USING (org, provider_user_id)
        WHERE is_deleted = 0 AND row_version = top_version
    ) AS candidates
    GROUP BY org, provider_user_id
) AS owners USING (org, provider_user_id)
) AS mapped_roster;
