-- Whether the connection's database has column @column in table @table:
-- the migration runner skips an `ALTER TABLE t ADD COLUMN c` whose column
-- exists (queries.AddColumn), as ClickHouse 18.16 has no ADD COLUMN IF
-- NOT EXISTS. Named parameters: @table, @column.
SELECT count()
FROM system.columns
WHERE database = currentDatabase() AND table = @table AND name = @column
