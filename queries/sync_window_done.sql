SELECT count()
FROM sync_windows
WHERE org = ? AND job = ? AND window_from = ? AND window_to = ?
