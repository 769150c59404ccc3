-- Fragment {cycle_raw_part}: the condition, after an AND, that a call's
-- started_at is in cycle @cycle and on a day cycle_user_totals reads from
-- raw_signals rather than user_day_metrics: a boundary day of a cycle that
-- starts or ends mid-day, or a @dirty day. The call's read and its count
-- both apply it.
AND started_at >= {cycle_bound bound="period_start"}
    AND started_at < {cycle_bound bound="period_end"}
    AND (started_at < toStartOfDay({cycle_bound bound="period_start"} + 86399)
        OR started_at >= toStartOfDay({cycle_bound bound="period_end"})
        OR toDate(started_at) IN (
            SELECT {dirty_days}
        ))
