-- Fragment {cycle_employee_counts}: every live employee of @org (the
-- mapped_roster columns) with the counts of cycle_user_totals for cycle
-- @cycle (none when the cycle does not exist; zeros, as NULL-free
-- defaults, for an employee without calls). The slots employees= and
-- roster= narrow the roster as mapped_roster's do.
SELECT *
FROM
(
    SELECT *
    FROM
    (
        {mapped_roster employees="{?employees}" roster="{?roster}"}
    ) AS roster
    ALL INNER JOIN
    (
        SELECT org
        FROM cycles
        WHERE org = @org AND cycle_id = @cycle
        GROUP BY org
    ) AS cycle_row USING (org)
) AS roster_in_cycle
ALL LEFT JOIN
(
    {cycle_user_totals}
) AS user_totals USING (org, user_id)
