-- Fragment {expired_calls}: the calls of @org whose current version
-- started before @cutoff, one row (provider, call_id) per call.
SELECT provider, call_id
FROM raw_signals
WHERE org = @org
GROUP BY provider, call_id
HAVING argMax(started_at, version) < @cutoff
