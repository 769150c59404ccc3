-- Removes the rows of one org whose {column} of {table} names the provider
-- user as a whole word (@pattern): for text that is part of the table's key
-- and cannot be updated.
ALTER TABLE {table} DELETE
WHERE org = @org AND match({column}, @pattern)
