-- Fragment {org_escalation where=" WHERE org = @org"}: per org (of those
-- the where= slot keeps), whether its calls say if they were escalated:
-- escalation_available as the provider's decoder stored it on every call
-- (1 where any stored call has it). An org with no stored call has no row,
-- so a LEFT JOIN reads 0, n/a.
SELECT org, max(escalation_available) AS escalation_available
FROM raw_signals{?where}
GROUP BY org
