-- Fragment {user_rows}: the condition on raw_signals rows of @org that
-- forgetting user @user removes: the versions naming the user, and every
-- version of the calls whose current version is the user's.
(user_id = @user OR (provider, call_id) IN
(
    {user_calls}
))
