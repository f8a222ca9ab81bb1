#!/usr/bin/env python3
"""Fill a fresh rt-server SQLite database (made by the server's own migrations) with a large
fleet for the query benchmarks, by copying real devices and their sample history from a
template database (the ingest run's) with INSERT ... SELECT. Setup only: not measured.

Each new device k is a copy of template device (k-1) % T (inventory, latest sample JSON,
fleet-view columns) with the whole sample history of one of the template devices that have a
full history (same timestamps: 7 days at 5 min = 2016 rows for the simulator's devices). Sample payloads are a 2-byte stub by default (--payload stub): the
measured queries read only the scalar columns of `samples`, and a full copy of 20 M JSON
payloads (~1.5 KB each) would not fit the time box. --payload full copies them.

Prints one JSON line: {"devices":..,"devices_with_history":..,"samples":..,"seconds":..}.
"""
import argparse
import json
import sqlite3
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--template", required=True)
p.add_argument("--dest", required=True)
p.add_argument("--devices", type=int, default=10000)
p.add_argument("--payload", choices=["stub", "full"], default="stub")
p.add_argument("--budget-s", type=float, default=240.0, help="stop copying history after this")
a = p.parse_args()

t0 = time.time()
c = sqlite3.connect(a.dest, isolation_level=None)
c.execute("PRAGMA synchronous = OFF")
c.execute("PRAGMA cache_size = -262144")
c.execute("ATTACH DATABASE ? AS t", (a.template,))
if c.execute("SELECT count(*) FROM main.devices").fetchone()[0]:
    sys.exit("destination already has devices; give a fresh database")
c.execute(
    "CREATE TEMP TABLE tpl AS SELECT row_number() OVER (ORDER BY id) - 1 AS r, id AS tid "
    "FROM t.devices WHERE latest_json IS NOT NULL"
)
T = c.execute("SELECT count(*) FROM tpl").fetchone()[0]
if T == 0:
    sys.exit("template has no devices with samples")
# History comes from the template devices with the most history (the full 7 days), so that every
# device has the same number of rows; device rows keep the variety of all template devices.
full = c.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM t.samples GROUP BY device_id)").fetchone()[0]
c.execute(
    "CREATE TEMP TABLE hist AS SELECT row_number() OVER (ORDER BY device_id) - 1 AS r, device_id AS tid "
    "FROM (SELECT device_id, count(*) AS n FROM t.samples GROUP BY device_id) WHERE n >= ?",
    (int(full * 0.99),),
)
H = c.execute("SELECT count(*) FROM hist").fetchone()[0]
cols = ("lifecycle_state, os_name, inventory_json, enrolled_at, last_seen, latest_seq, "
        "latest_collected_at, cpu_pct, mem_pct, disk_max_pct, temp_max_c, battery_health_pct, "
        "latest_json, cpu_recent, conflicts")
dcols = ", ".join("d." + x.strip() for x in cols.split(","))
c.execute("BEGIN")
c.execute(
    f"""INSERT INTO main.devices (id, name, hostname, machine_id, serial_number, asset_tag, notes,
        assignee, {cols})
    WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ?)
    SELECT n.k, d.name || '-' || n.k, d.hostname || '-' || n.k, 'bench-machine-' || n.k, NULL,
        'BENCH-' || n.k, NULL, d.assignee, {dcols}
    FROM n JOIN tpl ON tpl.r = (n.k - 1) % ? JOIN t.devices d ON d.id = tpl.tid""",
    (a.devices, T),
)
c.execute("COMMIT")
payload = "s.payload" if a.payload == "full" else "'{}'"
step = 250
done = 0
for lo in range(1, a.devices + 1, step):
    if time.time() - t0 > a.budget_s:
        print(f"fleet_fill: time budget reached after {done} devices", file=sys.stderr)
        break
    hi = min(lo + step - 1, a.devices)
    c.execute("BEGIN")
    c.execute(
        f"""INSERT INTO main.samples (device_id, seq, collected_at, received_at, cpu_pct, mem_pct,
            disk_max_pct, temp_max_c, battery_health_pct, net_rx_bytes, net_tx_bytes, payload,
            payload_hash)
        SELECT n.id, s.seq, s.collected_at, s.received_at, s.cpu_pct, s.mem_pct, s.disk_max_pct,
            s.temp_max_c, s.battery_health_pct, s.net_rx_bytes, s.net_tx_bytes, {payload},
            s.payload_hash
        FROM main.devices n JOIN hist ON hist.r = (n.id - 1) % ?
            JOIN t.samples s ON s.device_id = hist.tid
        WHERE n.id BETWEEN ? AND ? ORDER BY n.id, s.seq""",
        (H, lo, hi),
    )
    c.execute("COMMIT")
    done = hi
    if hi % 2000 == 0:
        print(f"fleet_fill: {hi} devices, {time.time() - t0:.0f} s", file=sys.stderr)
samples = c.execute("SELECT max(id) FROM main.samples").fetchone()[0] or 0
c.execute("DETACH DATABASE t")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.close()
print(json.dumps({"devices": a.devices, "devices_with_history": done, "samples": samples,
                  "payload": a.payload, "template_devices": T,
                  "history_templates": H, "rows_per_device": full,
                  "seconds": round(time.time() - t0, 1)}))
