-- Replaces the provider user id in the free text {column} of {table} (an
-- error or reason), one org's rows: @pattern matches the id as a whole word
-- (groups 1 and 3 are what stands either side of it).
ALTER TABLE {table} UPDATE {column} = replaceRegexpAll({column}, @pattern, '\\1[erased]\\3')
WHERE org = @org AND match({column}, @pattern)
