-- Fragment {range_calls}: the tail of a read of the current version of
-- each call of @org with a version started in [@from, @to): every version
-- of those calls (the current one may have moved out of the range), found
-- by the sort key, grouped per call. The statement names the argMax
-- columns it needs before it and filters the range again after it.
FROM raw_signals
WHERE org = @org AND (provider, call_id) IN
(
    SELECT provider, call_id
    FROM raw_signals
    WHERE org = @org AND started_at >= @from AND started_at < @to
)
GROUP BY provider, call_id
