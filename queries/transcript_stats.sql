-- Transcript outcomes of an org by status (saved, failed, disabled).
SELECT status, count() AS events, max(at) AS last_at, argMax(reason, at) AS last_reason
FROM transcript_events
WHERE org = ?
GROUP BY status
ORDER BY status
