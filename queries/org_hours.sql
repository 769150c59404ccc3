-- The working-hours rules of one org (@org) by the instant they take
-- effect, oldest first (migration 011): the newest row of each
-- effective_from. The transform rates calls by them (model.Schedule);
-- review says which rules a cycle used.
SELECT
    effective_from,
    argMax(timezone, version) AS timezone,
    argMax(hours, version) AS hours,
    argMax(days, version) AS days,
    argMax(deleted, version) AS withdrawn,
    argMax(set_at, version) AS set_at
FROM org_hours
WHERE org = @org
GROUP BY effective_from
ORDER BY effective_from
