-- Fragment {org_cycles where=" WHERE org = @org"}: every cycle's bounds,
-- its newest version, of the orgs the where= slot keeps (all without it).
SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
FROM cycles{?where}
GROUP BY org, cycle_id
