-- Sites get their own rows: appending one no longer rewrites the whole list.
CREATE TABLE rm_organization_sites (
    tenant_id        text NOT NULL,
    organization_id  uuid NOT NULL,
    id               uuid NOT NULL,
    name             text NOT NULL,
    address          text NOT NULL,
    country          char(2) NOT NULL,
    position         bigint NOT NULL,
    PRIMARY KEY (tenant_id, organization_id, id),
    FOREIGN KEY (tenant_id, organization_id)
        REFERENCES rm_organizations (tenant_id, id) ON DELETE CASCADE
);

INSERT INTO rm_organization_sites
    (tenant_id, organization_id, id, name, address, country, position)
SELECT o.tenant_id, o.id, (s.site ->> 'id')::uuid, s.site ->> 'name',
       s.site ->> 'address', s.site ->> 'country', o.position
FROM rm_organizations o, jsonb_array_elements(o.sites) AS s(site);

ALTER TABLE rm_organizations DROP COLUMN sites;
