-- A commune's own statistics settings (optional overrides of the deployment's [stats]: k,
-- lag, record grid) and the currency its penalties are counted in (issue 22). Existing
-- communes keep the deployment's statistics and MAD.
ALTER TABLE jurisdictions ADD COLUMN statistics JSONB NOT NULL DEFAULT '{}';
ALTER TABLE jurisdictions ADD COLUMN currency_code TEXT NOT NULL DEFAULT 'MAD';
ALTER TABLE jurisdictions ADD COLUMN currency_exponent INTEGER NOT NULL DEFAULT 2;
