-- The dead letters already replayed, by first origin and reason,
-- optionally of one org (? = '' for all).
SELECT org, origin, reason, max(replayed_at) AS last_replayed_at
FROM dead_letter_replays
WHERE (? = '' OR org = ?)
GROUP BY org, origin, reason
