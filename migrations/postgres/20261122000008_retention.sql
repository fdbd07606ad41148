-- Retention: residents' contact details are erased once reports are old enough, while the
-- reports themselves stay (history, statistics). The partial indexes find what is left to
-- erase without reading the rest.
CREATE INDEX reports_contact_idx ON reports (created_at) WHERE contact IS NOT NULL;
CREATE INDEX open311_submissions_device_idx ON open311_submissions (received_at)
    WHERE device_id IS NOT NULL;
