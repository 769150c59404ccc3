SELECT reason, uniqExact(topic, partition, offset) AS records
FROM dead_letters
WHERE org = ?
GROUP BY reason
ORDER BY records DESC, reason
LIMIT 10
