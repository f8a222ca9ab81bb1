-- Fleet-view columns filled at ingest, so the device list and the fleet summary need not read
-- and parse latest_json: the health findings of the latest sample (JSON array of
-- [level, reason], computed by rt_core::health::sample_findings with the server's policy) and
-- the sample metrics that were not columns yet. Existing rows are filled in by the server at
-- start (the findings need Rust), see store::devices::refresh_latest_findings.
ALTER TABLE devices ADD COLUMN latest_findings TEXT;
ALTER TABLE devices ADD COLUMN battery_charge_pct DOUBLE PRECISION;
ALTER TABLE devices ADD COLUMN net_rx_bytes BIGINT;
ALTER TABLE devices ADD COLUMN net_tx_bytes BIGINT;
