-- Webhook deliveries seen for an org, by HTTP status.
SELECT status, count() AS deliveries, max(at) AS last_at, argMax(reason, at) AS last_reason
FROM webhook_deliveries
WHERE org = ?
GROUP BY status
ORDER BY status
