-- One analyst object of the local ClickHouse 18.16 server, in the
-- analyst's own database: a Distributed table over the view of the same
-- name in the phonesignals database, read through the loopback cluster
-- phonesignals_self that internal/localserver/chserver writes into
-- config.xml (as user default). 18.16 has no GRANT and checks a view's
-- tables against the reader's allow_databases, so a view in the analyst
-- database would be refused: the Distributed table sends the query (its
-- WHERE included) to the server as default, and the analyst, limited to
-- {analyst} by users.xml, never reaches orgs or the operations tables.
-- {analyst}, {database} and {object} are filled by RenderAnalyst from
-- queries.AnalystObjects and the configured database names, never from
-- input. Recreate it (DROP, then this) when a migration changes the view.
CREATE TABLE IF NOT EXISTS {analyst}.{object} AS {database}.{object}
ENGINE = Distributed(phonesignals_self, {database}, {object})
