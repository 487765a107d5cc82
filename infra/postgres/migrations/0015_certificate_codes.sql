-- A tenant's certificate code (the prefix of its certificate numbers) is a
-- claim in unique_claims: tenant 'platform' (codes are unique across the
-- platform), scope 'tenant.certificate_code', held by the tenant aggregate.
-- It is claimed with the tenant's creation event, or on its first
-- certificate number for a tenant that has none recorded. A tenant holds
-- one code: this index refuses a second, and finds a tenant's code.
CREATE UNIQUE INDEX IF NOT EXISTS unique_claims_one_certificate_code
    ON unique_claims (aggregate_id) WHERE scope = 'tenant.certificate_code';
