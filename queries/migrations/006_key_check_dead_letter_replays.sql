-- The master key check value (an HMAC of a constant under the key), stored
-- by the first command that uses a key on this database. Commands that open
-- sealed data compare their key's value with the oldest row and stop on a
-- mismatch, instead of dead-lettering everything under a wrong key.
CREATE TABLE IF NOT EXISTS key_checks
(
    key_check String,
    created_at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY created_at;

-- Dead letters `dlq replay` re-published to the raw topic, by the first
-- raw record's position (`origin`, topic/partition/offset) and the reason
-- it failed with, so a second replay publishes nothing again; a replayed
-- record that fails with another reason can be replayed after that fix.
CREATE TABLE IF NOT EXISTS dead_letter_replays
(
    org String,
    origin String,
    reason String,
    call_id String,
    replayed_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(replayed_at)
ORDER BY (org, origin, reason);
