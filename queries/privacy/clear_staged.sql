-- Removes what erasure @erasure of one org staged, once it is done.
ALTER TABLE erasure_items DELETE
WHERE org = @org AND erasure_id = @erasure
