-- An org's working hours, versioned by the day they take effect: the
-- after-hours rule of a call is the one with the newest effective_from at
-- or before its start (model.Schedule). Without a row an org keeps the
-- seed's rule, 08:00-18:00 UTC every day. timezone is an IANA name, hours
-- a list of HH:MM-HH:MM ranges, days a list of weekdays (Mon..Sun); the
-- transform evaluates them with Go's time zone database. A row is never
-- rewritten: a change is a new row (`org set --hours ... --from DAY`), a
-- rule withdrawn a row with deleted = 1.
CREATE TABLE IF NOT EXISTS org_hours
(
    org String,
    effective_from DateTime('UTC'),
    timezone String,
    hours String,
    days String,
    deleted UInt8,
    set_at DateTime('UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (org, effective_from);
