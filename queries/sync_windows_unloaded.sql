-- Finished sync windows of an org with calls that are neither loaded
-- (raw_signals) nor dead-lettered: published to Kafka but never arrived.
SELECT job, window_from, window_to, uniqExact(call_id) AS missing
FROM sync_window_calls
WHERE org = ?
    AND call_id NOT IN (SELECT call_id FROM raw_signals WHERE org = ?)
    AND call_id NOT IN (SELECT call_id FROM dead_letters WHERE org = ?)
GROUP BY job, window_from, window_to
ORDER BY window_from, window_to, job
