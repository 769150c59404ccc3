-- Stages the calls of one org (@org) whose current version started before
-- @cutoff for erasure @erasure (retention).
INSERT INTO erasure_items (org, erasure_id, kind, provider, id)
SELECT @org, @erasure, 'call', provider, call_id
FROM raw_signals
WHERE org = @org
GROUP BY provider, call_id
HAVING argMax(started_at, version) < @cutoff
