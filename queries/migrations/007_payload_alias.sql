-- raw_signals.payload is computed when read instead of sent and stored with
-- every row. The transform built it with json.Marshal per call (5% of its
-- CPU), and at ~300 bytes a row it was most of what each insert carried and
-- ClickHouse parsed, compressed and merged, for data that every other column
-- already holds. As an ALIAS it keeps the seed's contract (call metadata as
-- JSON in raw_signals.payload, never notes or tags) for every row, old and
-- new, and costs nothing until someone selects it. The old stored text is
-- dropped; its only fields no column holds (provider_status, answered_at,
-- ended_at, missed_call_reason) were read by no query.
-- MODIFY COLUMN is idempotent, so an interrupted migration simply runs again.
ALTER TABLE raw_signals MODIFY COLUMN payload String ALIAS concat(
    '{"call_id":"', replaceAll(replaceAll(call_id, '\\', '\\\\'), '"', '\\"'),
    '","direction":"', replaceAll(replaceAll(direction, '\\', '\\\\'), '"', '\\"'),
    '","duration_sec":', toString(duration_sec),
    ',"status":"', replaceAll(replaceAll(status, '\\', '\\\\'), '"', '\\"'),
    '","after_hours":', if(after_hours = 1, 'true', 'false'),
    ',"escalated":', if(escalation_available = 1, if(escalated = 1, 'true', 'false'), 'null'),
    ',"resolved":', if(resolved = 1, 'true', 'false'),
    if(user_id = '', '', concat(',"user_id":"', replaceAll(replaceAll(user_id, '\\', '\\\\'), '"', '\\"'), '"')),
    ',"started_at":"', replaceOne(toString(started_at), ' ', 'T'),
    'Z","rules_version":"', replaceAll(replaceAll(rules_version, '\\', '\\\\'), '"', '\\"'), '"}');
