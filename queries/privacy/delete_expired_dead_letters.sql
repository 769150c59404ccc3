-- Removes the dead letters of one org recorded before @cutoff or naming a
-- call staged for erasure @erasure (retention).
ALTER TABLE dead_letters DELETE
WHERE org = @org AND (at < @cutoff OR call_id IN
(
    SELECT id
    FROM erasure_items
    WHERE org = @org AND erasure_id = @erasure AND kind = 'call'
))
