-- Clears the provider user @user from the stored versions of the org's
-- other employees (older mappings; no current one names it, or forget
-- would not erase it): each keeps its version, so nothing else changes.
ALTER TABLE employees UPDATE provider_user_id = ''
WHERE org = @org AND employee_id != @employee AND provider_user_id = @user
