-- Dead letters of an org recorded in [from, to), by reason, with the last
-- time each reason was seen: data freshness and its alert.
SELECT reason, uniqExact(topic, partition, offset) AS records, max(at) AS last_at
FROM dead_letters
WHERE org = ? AND at >= ? AND at < ?
GROUP BY reason
ORDER BY records DESC, reason
