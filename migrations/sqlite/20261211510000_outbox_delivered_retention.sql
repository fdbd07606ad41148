-- Delivered outbox messages are purged after `retention.outbox_days`: this index finds them
-- oldest first without reading the pending and dead ones.
CREATE INDEX outbox_delivered_idx ON outbox (created_at) WHERE state = 'delivered';
