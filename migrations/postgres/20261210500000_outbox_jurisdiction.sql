-- The commune a push or fan-out message concerns: its staff alone see it in the delivery
-- queues (a deployment may serve several communes). Older rows stay NULL (everyone's).
ALTER TABLE outbox ADD COLUMN jurisdiction_id TEXT;
CREATE INDEX outbox_push_jurisdiction_idx ON outbox (jurisdiction_id, state, created_at)
    WHERE topic IN ('push', 'push_fanout');
