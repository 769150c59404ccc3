-- Fragment {{call_counts}}: one current call as the counts it adds
-- (calls, inbound, outbound, duration, after_hours, escalated, resolved),
-- summed per user or per day by the statements that name it.
toUInt64(1) AS calls,
toUInt64(direction = 'inbound') AS inbound,
toUInt64(direction = 'outbound') AS outbound,
toUInt64(duration_sec) AS duration,
toUInt64(after_hours = 1) AS after_hours,
toUInt64(escalated = 1) AS escalated,
toUInt64(resolved = 1) AS resolved
