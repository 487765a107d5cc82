-- Certificates in force and their expiry dates (the expiry processor's list).
CREATE TABLE rm_certificate_expiry (
    tenant_id       text NOT NULL,
    certificate_id  uuid NOT NULL,
    expiry_date     date NOT NULL,
    PRIMARY KEY (tenant_id, certificate_id)
);
CREATE INDEX rm_certificate_expiry_due ON rm_certificate_expiry (expiry_date);
