-- Staff approval of a report's description for the public (issue 16): a description is
-- published only once staff approved it or the automatic screen found no personal data.
ALTER TABLE reports ADD COLUMN description_approved BOOLEAN NOT NULL DEFAULT FALSE;
