-- Removes from {table} (a table with org and call_id columns) the rows of
-- one org naming a call staged for erasure @erasure.
ALTER TABLE {table} DELETE
WHERE org = @org AND call_id IN
(
    SELECT id
    FROM erasure_items
    WHERE org = @org AND erasure_id = @erasure AND kind = 'call'
)
