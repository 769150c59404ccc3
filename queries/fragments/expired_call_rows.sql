-- Fragment {expired_call_rows table="T" or="COND OR "}: the count of T's
-- rows of @org whose call_id is one of the expired calls
-- ({expired_calls}), or that match the optional condition COND, as the
-- column T_rows of a plan.
assumeNotNull((
    SELECT count()
    FROM {?table}
    WHERE org = @org AND ({?or}call_id IN
    (
        SELECT call_id
        FROM
        (
            {expired_calls}
        ) AS expired_calls
    ))
)) AS {?table}_rows
