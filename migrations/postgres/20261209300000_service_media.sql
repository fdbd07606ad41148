-- Per-service videos and easy-to-read text (issue 20), set by staff, shown beside the
-- service in the resident app. `videos` is a JSON list of {language, url, title?}
-- (language: a BCP 47 tag, e.g. fr, ar, ary, xms for Moroccan Sign Language; url: https);
-- `easy_read` a JSON object from page language (fr, ar, en) to text.
CREATE TABLE service_media (
    jurisdiction_id TEXT NOT NULL,
    service_code TEXT NOT NULL,
    videos TEXT NOT NULL DEFAULT '[]',
    easy_read TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT service_media_pkey PRIMARY KEY (jurisdiction_id, service_code),
    CONSTRAINT service_media_service_fkey FOREIGN KEY (jurisdiction_id, service_code)
        REFERENCES services (jurisdiction_id, code) ON DELETE CASCADE
);
