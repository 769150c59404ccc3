-- The first key check stored: the key the database was set up with.
SELECT key_check, created_at
FROM key_checks
ORDER BY created_at, key_check
LIMIT 1
