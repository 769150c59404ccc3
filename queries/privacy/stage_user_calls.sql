-- Stages the calls of one provider user (@user) of one org (@org) for
-- erasure @erasure: those whose current version is the user's.
INSERT INTO erasure_items (org, erasure_id, kind, provider, id)
SELECT @org, @erasure, 'call', provider, call_id
FROM raw_signals
WHERE org = @org AND (provider, call_id) IN
(
    SELECT provider, call_id
    FROM raw_signals
    WHERE org = @org AND user_id = @user
)
GROUP BY provider, call_id
HAVING argMax(user_id, version) = @user
