-- Re-enrollment rights (issue 11): an enrollment token re-enrolls hardware that is already a
-- device only when it was created with allow_reenroll. Tokens made before stay create-only.
ALTER TABLE enrollment_tokens ADD COLUMN allow_reenroll BOOLEAN NOT NULL DEFAULT 0;
-- Hardware identity is compared normalised (surrounding space, ASCII case): see
-- store::devices::identity_key. These indexes serve that comparison.
CREATE INDEX devices_machine_id_norm ON devices(lower(trim(machine_id)));
CREATE INDEX devices_serial_number_norm ON devices(lower(trim(serial_number)));
