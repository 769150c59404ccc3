-- Removes from raw_signals every version of the calls staged for erasure
-- @erasure and every other row naming the provider user @user, of one org.
ALTER TABLE raw_signals DELETE
WHERE org = @org AND (user_id = @user OR (provider, call_id) IN
(
    SELECT provider, id
    FROM erasure_items
    WHERE org = @org AND erasure_id = @erasure AND kind = 'call'
))
