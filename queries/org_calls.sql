-- Current calls of an org in [from, to): total, with a user, deleted
-- versions hidden, and how many versions were folded into them.
SELECT
    count() AS calls,
    countIf(user_id != '') AS with_user,
    sum(versions_seen) AS versions
FROM calls_current
WHERE org = ? AND deleted = 0 AND started_at >= ? AND started_at < ?
