-- Drops one analyst object of the local server before local_table.sql
-- creates it again, so a migration that changes the view's columns is
-- followed. Dropping a Distributed table drops no data.
DROP TABLE IF EXISTS {analyst}.{object}
