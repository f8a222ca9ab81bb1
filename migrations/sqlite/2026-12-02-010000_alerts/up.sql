-- Alerting, server part. `device_alert_state`: the rt-core alert state machine of one device
-- (`rt_core::alert::DeviceAlertState` as JSON), read and written by the ingest writer in the
-- transaction that stores the device's samples, and by the alert tick job.
-- `alerts`: one row per episode of a rule on a subject (`rule:subject`) of a device:
-- pending -> firing -> resolved (a pending episode that never fired is deleted). At most one
-- open (pending or firing) episode per device and key. Times are Unix milliseconds.

CREATE TABLE device_alert_state (
    device_id BIGINT PRIMARY KEY NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    evaluated_at BIGINT NOT NULL
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    device_id BIGINT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    alert_key TEXT NOT NULL,
    rule TEXT NOT NULL,
    subject TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    since BIGINT NOT NULL,
    resolved_at BIGINT,
    summary TEXT NOT NULL,
    value DOUBLE PRECISION,
    forecast TEXT,
    late BOOLEAN NOT NULL DEFAULT 0,
    flapping BOOLEAN NOT NULL DEFAULT 0,
    last_evaluated BIGINT NOT NULL,
    acked_by TEXT,
    acked_at BIGINT,
    silenced_until BIGINT,
    -- The firing was handed to the notifier (so its resolve is notified too).
    notified BOOLEAN NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX alerts_open_key ON alerts (device_id, alert_key) WHERE state <> 'resolved';
CREATE INDEX alerts_by_state ON alerts (state, severity);
CREATE INDEX alerts_by_device ON alerts (device_id, id);
