-- Removes one org's per-day aggregates of the provider user @user.
ALTER TABLE user_day_metrics DELETE
WHERE org = @org AND user_id = @user
