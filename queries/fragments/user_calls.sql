-- Fragment {user_calls}: the calls of @org whose current version names
-- provider user @user (found by the sort key among the calls any version
-- of which names the user), one row (provider, call_id) per call.
SELECT provider, call_id
FROM raw_signals
WHERE org = @org AND (provider, call_id) IN
(
    SELECT provider, call_id
    FROM raw_signals
    WHERE org = @org AND user_id = @user
)
GROUP BY provider, call_id
HAVING argMax(user_id, version) = @user
