-- Fragment {owners}: the one owner of each provider user of @org, the
-- employee with the newest live mapping to it (the smallest employee_id on a
-- tie; migration 005's rule). Columns: org, provider_user_id, owner.
-- Shared by every query that maps calls to employees; embed.go substitutes it.
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
        WHERE org = @org
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
            WHERE org = @org
            GROUP BY org, employee_id
        ) AS mapped_again
        WHERE is_deleted = 0 AND provider_user_id != ''
        GROUP BY org, provider_user_id
    ) AS newest USING (org, provider_user_id)
    WHERE is_deleted = 0 AND row_version = top_version
) AS candidates
GROUP BY org, provider_user_id
