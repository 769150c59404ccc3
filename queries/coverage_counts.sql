-- What else a review of one org (@org) and cycle [@from, @to) should say
-- about its data:
--   dead_letter_calls: calls the transform refused (dead_letters) that are
--     still not loaded, of the cycle: published by a sync window overlapping
--     it, or recorded during it (webhooks); a record with no call id counts
--     by its position on the dead-letter topic;
--   calls_seen: current calls started in the cycle, deleted ones included;
--   newest_call: the latest start time of a call of the cycle
--     (1970-01-01 00:00:00 when none);
--   last_webhook: the latest webhook delivery of the org accepted (2xx),
--     whenever it came: how fresh the webhook channel is (1970-01-01
--     00:00:00 when none).
-- Each count is a scalar subquery: assumeNotNull keeps its type as 18.16
-- gives it (current ClickHouse makes scalar subqueries Nullable).
SELECT
    assumeNotNull((
        SELECT uniqExact(if(call_id = '', concat(topic, '/', toString(partition), '/', toString(offset)), call_id))
        FROM dead_letters
        WHERE org = @org
            AND ((at >= @from AND at < @to) OR call_id IN
            (
                SELECT call_id
                FROM sync_window_calls
                WHERE org = @org AND window_to > @from AND window_from < @to
            ))
            AND call_id NOT IN
            (
                SELECT call_id
                FROM raw_signals
                WHERE org = @org AND call_id IN (SELECT call_id FROM dead_letters WHERE org = @org)
            )
    )) AS dead_letter_calls,
    assumeNotNull((
        SELECT uniqExact(provider, call_id)
        FROM raw_signals
        WHERE org = @org AND started_at >= @from AND started_at < @to
    )) AS calls_seen,
    assumeNotNull((
        SELECT max(started_at)
        FROM raw_signals
        WHERE org = @org AND started_at >= @from AND started_at < @to
    )) AS newest_call,
    assumeNotNull((
        SELECT max(at)
        FROM webhook_deliveries
        WHERE org = @org AND status >= 200 AND status < 300
    )) AS last_webhook
