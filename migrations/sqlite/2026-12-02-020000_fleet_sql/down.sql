DROP INDEX devices_seen;
DROP INDEX devices_name_nocase;
ALTER TABLE devices DROP COLUMN sample_level;
