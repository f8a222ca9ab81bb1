ALTER TABLE devices DROP COLUMN net_tx_bytes;
ALTER TABLE devices DROP COLUMN net_rx_bytes;
ALTER TABLE devices DROP COLUMN battery_charge_pct;
ALTER TABLE devices DROP COLUMN latest_findings;
