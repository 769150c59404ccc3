-- Fragment {user_call_rows table="T"}: the count of T's rows of @org whose
-- call_id is one of the user's calls ({user_calls}), as the column
-- T_rows of a plan.
assumeNotNull((
    SELECT count()
    FROM {?table}
    WHERE org = @org AND call_id IN
    (
        SELECT call_id
        FROM
        (
            {user_calls}
        ) AS user_calls
    )
)) AS {?table}_rows
