-- Removes from {table} (user_day_metrics, user_day_dirty) one org's rows of
-- the days before @cutoff (retention).
ALTER TABLE {table} DELETE
WHERE org = @org AND day < toDate(@cutoff)
