ALTER TABLE rm_organizations
    ADD COLUMN registration_number text,
    ADD COLUMN archived boolean NOT NULL DEFAULT false;
