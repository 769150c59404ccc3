-- How many mutations of raw_signals in the current database are not done
-- yet (`org set` waits for its re-rating to finish before it refreshes).
SELECT count()
FROM system.mutations
WHERE database = currentDatabase() AND table = 'raw_signals' AND is_done = 0
