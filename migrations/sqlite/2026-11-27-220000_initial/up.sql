-- ResourceTracker initial schema (SQLite).
--
-- Portability rules (a PostgreSQL tree follows): only BIGINT, INTEGER PRIMARY KEY (BIGSERIAL /
-- BIGINT GENERATED ALWAYS AS IDENTITY there), TEXT, DOUBLE PRECISION and BOOLEAN.
-- Every timestamp is BIGINT milliseconds since the Unix epoch, UTC (`*_at`, `last_seen`):
-- cheap to compare, index and bucket (`collected_at / 300000`) on both backends.
-- JSON documents (inventory, sample payloads, event data) are TEXT.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

-- Session tokens (kind 'session', from login) and long-lived API tokens (kind 'api').
-- Only the SHA-256 of a token is stored.
CREATE TABLE user_tokens (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX user_tokens_user ON user_tokens(user_id);

CREATE TABLE enrollment_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    max_uses BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    note TEXT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);

-- One row per enrolled piece of hardware, with the latest-state columns the fleet view reads
-- (updated in the same transaction as the samples they come from).
CREATE TABLE devices (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    hostname TEXT NOT NULL,
    machine_id TEXT,
    serial_number TEXT,
    asset_tag TEXT,
    notes TEXT,
    assignee TEXT,
    lifecycle_state TEXT NOT NULL,
    os_name TEXT NOT NULL,
    inventory_json TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    last_seen BIGINT,
    latest_seq BIGINT,
    latest_collected_at BIGINT,
    cpu_pct DOUBLE PRECISION,
    mem_pct DOUBLE PRECISION,
    disk_max_pct DOUBLE PRECISION,
    temp_max_c DOUBLE PRECISION,
    battery_health_pct DOUBLE PRECISION,
    latest_json TEXT,
    cpu_recent TEXT NOT NULL DEFAULT '[]',
    conflicts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX devices_machine_id ON devices(machine_id);
CREATE INDEX devices_serial_number ON devices(serial_number);
CREATE INDEX devices_name ON devices(name);

-- Device tokens: one live token per device; re-enrollment and retirement revoke.
CREATE TABLE device_tokens (
    id INTEGER PRIMARY KEY,
    device_id BIGINT NOT NULL REFERENCES devices(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX device_tokens_device ON device_tokens(device_id);

-- Raw samples: scalar columns for what is queried, the canonical JSON for the rest, and the
-- SHA-256 of that JSON to tell a duplicate from a conflict.
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    device_id BIGINT NOT NULL REFERENCES devices(id),
    seq BIGINT NOT NULL,
    collected_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    cpu_pct DOUBLE PRECISION NOT NULL,
    mem_pct DOUBLE PRECISION NOT NULL,
    disk_max_pct DOUBLE PRECISION,
    temp_max_c DOUBLE PRECISION,
    battery_health_pct DOUBLE PRECISION,
    net_rx_bytes BIGINT,
    net_tx_bytes BIGINT,
    payload TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    UNIQUE (device_id, seq)
);
CREATE INDEX samples_device_time ON samples(device_id, collected_at);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    device_id BIGINT NOT NULL REFERENCES devices(id),
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    message TEXT NOT NULL,
    data TEXT
);
CREATE INDEX events_device_time ON events(device_id, at);
