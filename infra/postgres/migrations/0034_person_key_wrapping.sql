-- Per-person data keys are stored wrapped with a key-encryption key named
-- by wrapping_key_id (infra.erasure.wrapping: AES-256-GCM, 60 bytes). Rows
-- stored before wrapping existed keep their data key in the clear with
-- wrapping_key_id NULL and keep working; `assurehub person-keys rewrap` (also
-- run by `assurehub migrate` once a wrapping key is configured) wraps them.
-- An erased row holds neither.
ALTER TABLE person_keys ADD COLUMN wrapping_key_id text;
ALTER TABLE person_keys DROP CONSTRAINT person_keys_data_key_check;
ALTER TABLE person_keys ADD CONSTRAINT person_keys_data_key_form CHECK (
    (data_key IS NULL AND wrapping_key_id IS NULL)
    OR (wrapping_key_id IS NULL AND length(data_key) = 32)
    OR (wrapping_key_id IS NOT NULL AND length(data_key) = 60)
);
