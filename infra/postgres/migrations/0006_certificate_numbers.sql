-- Certificate numbers: one sequence per tenant code and year.
CREATE TABLE certificate_number_sequences (
    tenant_code  text NOT NULL,
    year         integer NOT NULL,
    last_value   bigint NOT NULL,
    PRIMARY KEY (tenant_code, year)
);
