-- Not reversible without the Rust codec: fail (no such table) rather than lose the samples.
-- Restore a backup taken before the upgrade instead.
SELECT 1 FROM store_v2_cannot_be_migrated_down_restore_a_backup;
