-- Provider users with calls in [from, to) and no employee mapping: whom an
-- admin should map. Calls with no user at all are counted under ''.
SELECT user_id, count() AS calls
FROM calls_current
WHERE org = ? AND deleted = 0 AND started_at >= ? AND started_at < ?
    AND user_id NOT IN (SELECT provider_user_id FROM employees_current WHERE org = ?)
GROUP BY user_id
ORDER BY calls DESC, user_id
