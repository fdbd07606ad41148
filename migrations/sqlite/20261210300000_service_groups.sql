-- no-transaction
-- SQLite twin of migrations/postgres/20261210300000_service_groups.sql. SQLite cannot drop
-- a CHECK constraint, so `services` and `contracts` are rebuilt following SQLite's
-- documented procedure (https://sqlite.org/lang_altertable.html#otheralter): foreign keys
-- off (outside a transaction, hence `no-transaction`: otherwise dropping `services` would
-- cascade into service_media), new table, copy, drop, rename, check, commit, keys back on.
PRAGMA foreign_keys = OFF;
BEGIN;

CREATE TABLE service_groups (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    code TEXT NOT NULL,
    name TEXT NOT NULL, -- LocalizedText JSON: {"fr": …, "ar"?: …, "en"?: …}
    icon TEXT, -- an icon key the apps know; a generic icon otherwise
    position INTEGER NOT NULL DEFAULT 0, -- display order, lowest first
    CONSTRAINT service_groups_pkey PRIMARY KEY (jurisdiction_id, code)
);

INSERT INTO service_groups (jurisdiction_id, code, name, icon, position)
SELECT j.id, g.column1, g.column2, g.column1, g.column3
FROM jurisdictions j
CROSS JOIN (VALUES
    ('waste', '{"fr": "Déchets", "ar": "النفايات", "en": "Waste"}', 10),
    ('lighting', '{"fr": "Éclairage public", "ar": "الإنارة العمومية", "en": "Street lighting"}', 20),
    ('transport', '{"fr": "Bus", "ar": "الحافلات", "en": "Buses"}', 30)
) AS g;

CREATE TABLE new_services (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    code TEXT NOT NULL,
    service_group TEXT NOT NULL,
    definition TEXT NOT NULL, -- names, attributes, keywords: the domain's Service
    active INTEGER NOT NULL DEFAULT 1,
    CONSTRAINT services_pkey PRIMARY KEY (jurisdiction_id, code),
    CONSTRAINT services_group_fkey FOREIGN KEY (jurisdiction_id, service_group)
        REFERENCES service_groups (jurisdiction_id, code)
);
INSERT INTO new_services (jurisdiction_id, code, service_group, definition, active)
SELECT jurisdiction_id, code, service_group, definition, active FROM services;
DROP TABLE services;
ALTER TABLE new_services RENAME TO services;

CREATE TABLE new_contracts (
    id BLOB PRIMARY KEY,
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    reference TEXT NOT NULL,
    operator_id BLOB NOT NULL REFERENCES operators (id),
    service_group TEXT NOT NULL,
    zone_name TEXT NOT NULL,
    zone TEXT NOT NULL, -- GeoJSON geometry, WGS84
    valid_from INTEGER NOT NULL,
    valid_until INTEGER,
    CONSTRAINT contracts_reference_key UNIQUE (jurisdiction_id, reference),
    CONSTRAINT contracts_group_fkey FOREIGN KEY (jurisdiction_id, service_group)
        REFERENCES service_groups (jurisdiction_id, code)
);
INSERT INTO new_contracts (id, jurisdiction_id, reference, operator_id, service_group,
    zone_name, zone, valid_from, valid_until)
SELECT id, jurisdiction_id, reference, operator_id, service_group, zone_name, zone,
    valid_from, valid_until FROM contracts;
DROP TABLE contracts;
ALTER TABLE new_contracts RENAME TO contracts;

-- Nothing may point nowhere after the swap: a violation fails this CHECK and aborts.
CREATE TEMP TABLE service_groups_fk_check (violations INTEGER CHECK (violations = 0));
INSERT INTO service_groups_fk_check SELECT count(*) FROM pragma_foreign_key_check;
DROP TABLE service_groups_fk_check;

COMMIT;
PRAGMA foreign_keys = ON;
