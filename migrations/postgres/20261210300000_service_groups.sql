-- Service groups as data (issue 19): each jurisdiction keeps its own (waste, lighting and
-- transport to start with; a commune adds parks, water, markets…). Services and contracts
-- refer to a group by code, through a foreign key instead of a fixed CHECK list.
CREATE TABLE service_groups (
    jurisdiction_id TEXT NOT NULL REFERENCES jurisdictions (id),
    code TEXT NOT NULL,
    name JSONB NOT NULL, -- LocalizedText: {"fr": …, "ar"?: …, "en"?: …}
    icon TEXT, -- an icon key the apps know; a generic icon otherwise
    position INTEGER NOT NULL DEFAULT 0, -- display order, lowest first
    CONSTRAINT service_groups_pkey PRIMARY KEY (jurisdiction_id, code)
);

-- The built-in groups for every existing jurisdiction, named as the resident app named
-- them (balagh-store seeds the same rows for jurisdictions created later).
INSERT INTO service_groups (jurisdiction_id, code, name, icon, position)
SELECT j.id, g.code, g.name::jsonb, g.code, g.position
FROM jurisdictions j
CROSS JOIN (VALUES
    ('waste', '{"fr": "Déchets", "ar": "النفايات", "en": "Waste"}', 10),
    ('lighting', '{"fr": "Éclairage public", "ar": "الإنارة العمومية", "en": "Street lighting"}', 20),
    ('transport', '{"fr": "Bus", "ar": "الحافلات", "en": "Buses"}', 30)
) AS g (code, name, position);

ALTER TABLE services DROP CONSTRAINT services_service_group_check;
ALTER TABLE services ADD CONSTRAINT services_group_fkey FOREIGN KEY (jurisdiction_id, service_group)
    REFERENCES service_groups (jurisdiction_id, code);
ALTER TABLE contracts DROP CONSTRAINT contracts_service_group_check;
ALTER TABLE contracts ADD CONSTRAINT contracts_group_fkey FOREIGN KEY (jurisdiction_id, service_group)
    REFERENCES service_groups (jurisdiction_id, code);
