-- SMS reliability (issue 21 leftovers).
-- A logged message counts as handled only once its conversation is saved: until then a
-- gateway's retry of it is acted on again instead of being dropped as a repeat.
ALTER TABLE sms_messages ADD COLUMN handled_at TIMESTAMPTZ;
UPDATE sms_messages SET handled_at = received_at;
-- One message of a number at a time: a replica claims the conversation until it has saved
-- it (a lease, so a crashed replica does not hold it for ever).
ALTER TABLE sms_conversations ADD COLUMN claimed_until TIMESTAMPTZ;
-- A report made by SMS is keyed by the message that made it: handling that message again
-- (a retry after a failure) finds the same report instead of making a second one.
CREATE UNIQUE INDEX reports_sms_idempotency_key ON reports (idempotency_key) WHERE channel = 'sms';
