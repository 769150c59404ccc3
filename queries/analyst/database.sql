-- The analyst database of the local ClickHouse 18.16 server, which holds
-- one Distributed table per analyst object (local_table.sql). {analyst}
-- is filled by RenderAnalyst.
CREATE DATABASE IF NOT EXISTS {analyst}
