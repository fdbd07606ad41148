-- SQLite twin of migrations/postgres/20261210200000_sms_reliability.sql.
ALTER TABLE sms_messages ADD COLUMN handled_at INTEGER;
UPDATE sms_messages SET handled_at = received_at;
ALTER TABLE sms_conversations ADD COLUMN claimed_until INTEGER;
CREATE UNIQUE INDEX reports_sms_idempotency_key ON reports (idempotency_key) WHERE channel = 'sms';
