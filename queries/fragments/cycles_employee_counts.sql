-- Fragment {cycles_employee_counts}: every live employee of @org (the
-- mapped_roster columns; the employees= slot narrows them as there) in
-- every cycle of @org (cycle_id, period_start, period_end), with the
-- counts of cycles_user_totals.
SELECT *
FROM
(
    SELECT *
    FROM
    (
        {mapped_roster employees="{?employees}"}
    ) AS roster
    ALL INNER JOIN
    (
        {org_cycles where=" WHERE org = @org"}
    ) AS roster_cycles USING (org)
) AS roster_in_cycles
ALL LEFT JOIN
(
    {cycles_user_totals org="org = @org AND " where=" WHERE org = @org" dirty="{org_dirty_days}"}
) AS user_totals USING (org, cycle_id, user_id)
