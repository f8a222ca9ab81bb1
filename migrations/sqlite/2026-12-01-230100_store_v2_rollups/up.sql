-- Store v2, step 2: rollup tiers 5m, 1h and 1d per device. Each bucket (`t` = start, ms) holds
-- the count and the first/last collection time, count/sum/min/max of every charted metric (avg =
-- sum / count; the nullable metrics have their own count), and min/max of the network counters
-- (rates are computed between buckets). The writer adds every *newly stored* raw sample to its
-- three buckets in the same transaction (store::rollups), so duplicates add nothing and a late
-- backlog lands in its own (old) buckets. Existing raw rows are rolled up here.

CREATE TABLE rollup_5m (
    device_id BIGINT NOT NULL REFERENCES devices(id),
    t BIGINT NOT NULL,
    n BIGINT NOT NULL,
    t_min BIGINT NOT NULL,
    t_max BIGINT NOT NULL,
    cpu_sum DOUBLE PRECISION NOT NULL,
    cpu_min DOUBLE PRECISION NOT NULL,
    cpu_max DOUBLE PRECISION NOT NULL,
    mem_sum DOUBLE PRECISION NOT NULL,
    mem_min DOUBLE PRECISION NOT NULL,
    mem_max DOUBLE PRECISION NOT NULL,
    disk_n BIGINT NOT NULL,
    disk_sum DOUBLE PRECISION,
    disk_min DOUBLE PRECISION,
    disk_max DOUBLE PRECISION,
    temp_n BIGINT NOT NULL,
    temp_sum DOUBLE PRECISION,
    temp_min DOUBLE PRECISION,
    temp_max DOUBLE PRECISION,
    bat_n BIGINT NOT NULL,
    bat_sum DOUBLE PRECISION,
    bat_min DOUBLE PRECISION,
    bat_max DOUBLE PRECISION,
    rx_min BIGINT,
    rx_max BIGINT,
    tx_min BIGINT,
    tx_max BIGINT,
    PRIMARY KEY (device_id, t)
) WITHOUT ROWID;
INSERT INTO rollup_5m
SELECT device_id, (collected_at / 300000) * 300000, COUNT(*), MIN(collected_at), MAX(collected_at),
       SUM(cpu_pct), MIN(cpu_pct), MAX(cpu_pct), SUM(mem_pct), MIN(mem_pct), MAX(mem_pct),
       COUNT(disk_max_pct), SUM(disk_max_pct), MIN(disk_max_pct), MAX(disk_max_pct),
       COUNT(temp_max_c), SUM(temp_max_c), MIN(temp_max_c), MAX(temp_max_c),
       COUNT(battery_health_pct), SUM(battery_health_pct), MIN(battery_health_pct), MAX(battery_health_pct),
       MIN(net_rx_bytes), MAX(net_rx_bytes), MIN(net_tx_bytes), MAX(net_tx_bytes)
FROM samples GROUP BY device_id, collected_at / 300000;

CREATE TABLE rollup_1h (
    device_id BIGINT NOT NULL REFERENCES devices(id),
    t BIGINT NOT NULL,
    n BIGINT NOT NULL,
    t_min BIGINT NOT NULL,
    t_max BIGINT NOT NULL,
    cpu_sum DOUBLE PRECISION NOT NULL,
    cpu_min DOUBLE PRECISION NOT NULL,
    cpu_max DOUBLE PRECISION NOT NULL,
    mem_sum DOUBLE PRECISION NOT NULL,
    mem_min DOUBLE PRECISION NOT NULL,
    mem_max DOUBLE PRECISION NOT NULL,
    disk_n BIGINT NOT NULL,
    disk_sum DOUBLE PRECISION,
    disk_min DOUBLE PRECISION,
    disk_max DOUBLE PRECISION,
    temp_n BIGINT NOT NULL,
    temp_sum DOUBLE PRECISION,
    temp_min DOUBLE PRECISION,
    temp_max DOUBLE PRECISION,
    bat_n BIGINT NOT NULL,
    bat_sum DOUBLE PRECISION,
    bat_min DOUBLE PRECISION,
    bat_max DOUBLE PRECISION,
    rx_min BIGINT,
    rx_max BIGINT,
    tx_min BIGINT,
    tx_max BIGINT,
    PRIMARY KEY (device_id, t)
) WITHOUT ROWID;
INSERT INTO rollup_1h
SELECT device_id, (collected_at / 3600000) * 3600000, COUNT(*), MIN(collected_at), MAX(collected_at),
       SUM(cpu_pct), MIN(cpu_pct), MAX(cpu_pct), SUM(mem_pct), MIN(mem_pct), MAX(mem_pct),
       COUNT(disk_max_pct), SUM(disk_max_pct), MIN(disk_max_pct), MAX(disk_max_pct),
       COUNT(temp_max_c), SUM(temp_max_c), MIN(temp_max_c), MAX(temp_max_c),
       COUNT(battery_health_pct), SUM(battery_health_pct), MIN(battery_health_pct), MAX(battery_health_pct),
       MIN(net_rx_bytes), MAX(net_rx_bytes), MIN(net_tx_bytes), MAX(net_tx_bytes)
FROM samples GROUP BY device_id, collected_at / 3600000;

CREATE TABLE rollup_1d (
    device_id BIGINT NOT NULL REFERENCES devices(id),
    t BIGINT NOT NULL,
    n BIGINT NOT NULL,
    t_min BIGINT NOT NULL,
    t_max BIGINT NOT NULL,
    cpu_sum DOUBLE PRECISION NOT NULL,
    cpu_min DOUBLE PRECISION NOT NULL,
    cpu_max DOUBLE PRECISION NOT NULL,
    mem_sum DOUBLE PRECISION NOT NULL,
    mem_min DOUBLE PRECISION NOT NULL,
    mem_max DOUBLE PRECISION NOT NULL,
    disk_n BIGINT NOT NULL,
    disk_sum DOUBLE PRECISION,
    disk_min DOUBLE PRECISION,
    disk_max DOUBLE PRECISION,
    temp_n BIGINT NOT NULL,
    temp_sum DOUBLE PRECISION,
    temp_min DOUBLE PRECISION,
    temp_max DOUBLE PRECISION,
    bat_n BIGINT NOT NULL,
    bat_sum DOUBLE PRECISION,
    bat_min DOUBLE PRECISION,
    bat_max DOUBLE PRECISION,
    rx_min BIGINT,
    rx_max BIGINT,
    tx_min BIGINT,
    tx_max BIGINT,
    PRIMARY KEY (device_id, t)
) WITHOUT ROWID;
INSERT INTO rollup_1d
SELECT device_id, (collected_at / 86400000) * 86400000, COUNT(*), MIN(collected_at), MAX(collected_at),
       SUM(cpu_pct), MIN(cpu_pct), MAX(cpu_pct), SUM(mem_pct), MIN(mem_pct), MAX(mem_pct),
       COUNT(disk_max_pct), SUM(disk_max_pct), MIN(disk_max_pct), MAX(disk_max_pct),
       COUNT(temp_max_c), SUM(temp_max_c), MIN(temp_max_c), MAX(temp_max_c),
       COUNT(battery_health_pct), SUM(battery_health_pct), MIN(battery_health_pct), MAX(battery_health_pct),
       MIN(net_rx_bytes), MAX(net_rx_bytes), MIN(net_tx_bytes), MAX(net_tx_bytes)
FROM samples GROUP BY device_id, collected_at / 86400000;
