-- Store v2, step 1: compact raw samples.
--
-- A raw sample is its typed columns (everything the product charts, filters, alerts or reports
-- on) plus `detail`, the rest of the sample in the compact binary form of
-- rt-server/src/store/codec.rs (strings as ids into `sample_strings`), plus the first 8 bytes of
-- the SHA-256 of its canonical JSON to tell a re-sent duplicate from a conflict. Keyed by
-- (device_id, seq) without a separate rowid, so the idempotency key is the table itself.
-- BLOB is BYTEA in the PostgreSQL tree; WITHOUT ROWID is SQLite-only and dropped there.
--
-- The v1 rows (a JSON payload each) are kept as `samples_v1` and converted by the server at
-- start (they need the Rust codec), in batches that delete what they converted, so an
-- interrupted upgrade resumes; `store_tasks` lists such pending start-up work.

ALTER TABLE samples RENAME TO samples_v1;
DROP INDEX samples_device_time;

CREATE TABLE sample_strings (
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
);

CREATE TABLE samples (
    device_id BIGINT NOT NULL REFERENCES devices(id),
    seq BIGINT NOT NULL,
    collected_at BIGINT NOT NULL,
    cpu_pct DOUBLE PRECISION NOT NULL,
    mem_pct DOUBLE PRECISION NOT NULL,
    disk_max_pct DOUBLE PRECISION,
    temp_max_c DOUBLE PRECISION,
    battery_health_pct DOUBLE PRECISION,
    battery_charge_pct DOUBLE PRECISION,
    net_rx_bytes BIGINT,
    net_tx_bytes BIGINT,
    detail BLOB NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;
CREATE INDEX samples_device_time ON samples(device_id, collected_at);

CREATE TABLE store_tasks (
    name TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL
);
INSERT INTO store_tasks (name, created_at) VALUES ('convert_samples_v1', 0);
