-- Counts the rows of one org whose {column} of {table} still names an id
-- erasure @erasure staged (exactly) or its provider user (@pattern, as a
-- whole word): 0 everywhere once the erasure is done.
SELECT count()
FROM {table}
WHERE org = @org AND ({column} IN
(
    SELECT id
    FROM erasure_items
    WHERE org = @org AND erasure_id = @erasure
) OR match({column}, @pattern))
