-- Mutations (ALTER TABLE ... DELETE / UPDATE) of the current database that
-- have not finished, by table: an erasure waits for its own to finish
-- before the next step reads what they removed.
SELECT table, count() AS mutations
FROM system.mutations
WHERE database = currentDatabase() AND is_done = 0
GROUP BY table
ORDER BY table
