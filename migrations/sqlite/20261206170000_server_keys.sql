-- SQLite twin of migrations/postgres/20261206170000_server_keys.sql.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    key_bytes BLOB NOT NULL
);
