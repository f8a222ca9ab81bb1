DROP INDEX devices_serial_number_norm;
DROP INDEX devices_machine_id_norm;
ALTER TABLE enrollment_tokens DROP COLUMN allow_reenroll;
