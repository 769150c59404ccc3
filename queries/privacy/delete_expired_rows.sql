-- Removes from raw_signals every version of the calls staged for erasure
-- @erasure and every row started before @cutoff, of one org (retention).
ALTER TABLE raw_signals DELETE
WHERE org = @org AND (started_at < @cutoff OR (provider, call_id) IN
(
    SELECT provider, id
    FROM erasure_items
    WHERE org = @org AND erasure_id = @erasure AND kind = 'call'
))
