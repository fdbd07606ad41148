-- Keys the server derives pseudonyms with (the resident labels operators see): created once
-- by whichever replica needs one first, then shared by every replica, never shown.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    key_bytes BYTEA NOT NULL
);
