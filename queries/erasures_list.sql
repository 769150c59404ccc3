-- The erasure log of one org (@org), oldest first: what `employees forget`
-- and `retention apply` removed and when, never whose data it was.
SELECT erasure_id, kind, reference, cutoff, calls, rows, days_rebuilt, requested_at, finished_at
FROM erasures
WHERE org = @org
ORDER BY requested_at, erasure_id
