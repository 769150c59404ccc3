-- The erasures of one org (@org) that staged the provider user @user and
-- never finished (an erasure deletes its staged rows when done): the next
-- `employees forget` of the same employee clears them first.
SELECT DISTINCT erasure_id
FROM erasure_items
WHERE org = @org AND kind = 'user' AND id = @user
ORDER BY erasure_id
