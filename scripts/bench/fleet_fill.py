#!/usr/bin/env python3
"""Fill a fresh rt-server SQLite database (made by the server's own migrations) with a large
fleet for the query benchmarks, by copying real devices, their compact (store v2) sample rows and
their rollup buckets from a template database (the ingest run's) with INSERT ... SELECT. Setup
only: not measured.

Each new device k is a copy of template device (k-1) % T (inventory, latest sample JSON and the
fleet-view columns: latest findings, stored sample level, metrics) with the whole history of one
of the template devices that have a full history: its raw rows (typed columns, binary detail,
8-byte hash; the detail's string ids stay valid because the `sample_strings` dictionary is copied
as it is) and its rollup_5m/1h/1d buckets, timestamps included (7 days at 5 min = 2016 rows for
the simulator's devices). History is copied device by device until --budget-s; later devices get
their device row only (enough for the list and summary queries).

--long-history N gives devices 1..N a year of history instead: the template history repeated 52
times a week apart (seq increasing with time), rollups computed from those rows with the same
GROUP BY the store-v2 migration uses; the 365-day history query runs on them.

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
p.add_argument("--long-history", type=int, default=3, help="devices with 52 weeks of history")
p.add_argument("--budget-s", type=float, default=240.0, help="stop copying history after this")
a = p.parse_args()

t0 = time.time()
c = sqlite3.connect(a.dest, isolation_level=None)
c.execute("PRAGMA synchronous = OFF")
c.execute("PRAGMA cache_size = -262144")
c.execute("ATTACH DATABASE ? AS t", (a.template,))
if c.execute("SELECT count(*) FROM main.devices").fetchone()[0]:
    sys.exit("destination already has devices; give a fresh database")
if not c.execute("SELECT count(*) FROM t.sqlite_master WHERE name = 'rollup_5m'").fetchone()[0]:
    sys.exit("template is not a store-v2 database (no rollup tables); run scripts/bench/ingest.sh")
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


def columns(table):
    return [r[1] for r in c.execute(f"PRAGMA main.table_info({table})")]


dev_cols = [x for x in columns("devices") if x not in
            ("id", "name", "hostname", "machine_id", "serial_number", "asset_tag", "notes", "assignee")]
cols = ", ".join(dev_cols)
dcols = ", ".join("d." + x for x in dev_cols)
c.execute("BEGIN")
c.execute("INSERT INTO main.sample_strings SELECT * FROM t.sample_strings")
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

s_cols = [x for x in columns("samples") if x not in ("device_id", "seq", "collected_at")]
s_list = ", ".join(s_cols)
s_sel = ", ".join("s." + x for x in s_cols)
rollups = ("rollup_5m", "rollup_1h", "rollup_1d")
r_cols = {r: [x for x in columns(r) if x != "device_id"] for r in rollups}
LONG = min(a.long_history, a.devices)

# Year-long devices: 52 copies of the history, a week apart, seq increasing with time.
WEEK_MS = 7 * 86400000
for dev in range(1, LONG + 1):
    c.execute("BEGIN")
    for w in range(52):
        c.execute(
            f"""INSERT INTO main.samples (device_id, seq, collected_at, {s_list})
            SELECT ?, s.seq + ? * 100000, s.collected_at - ? * {WEEK_MS}, {s_sel}
            FROM hist JOIN t.samples s ON s.device_id = hist.tid WHERE hist.r = (? - 1) % ?""",
            (dev, w, 51 - w, dev, H),
        )
    c.execute(
        "UPDATE main.devices SET latest_seq = (SELECT max(seq) FROM main.samples WHERE device_id = ?) "
        "WHERE id = ?", (dev, dev))
    for table, width in zip(rollups, (300000, 3600000, 86400000)):
        c.execute(
            f"""INSERT INTO main.{table}
            SELECT device_id, (collected_at / {width}) * {width}, COUNT(*), MIN(collected_at), MAX(collected_at),
                SUM(cpu_pct), MIN(cpu_pct), MAX(cpu_pct), SUM(mem_pct), MIN(mem_pct), MAX(mem_pct),
                COUNT(disk_max_pct), SUM(disk_max_pct), MIN(disk_max_pct), MAX(disk_max_pct),
                COUNT(temp_max_c), SUM(temp_max_c), MIN(temp_max_c), MAX(temp_max_c),
                COUNT(battery_health_pct), SUM(battery_health_pct), MIN(battery_health_pct), MAX(battery_health_pct),
                MIN(net_rx_bytes), MAX(net_rx_bytes), MIN(net_tx_bytes), MAX(net_tx_bytes)
            FROM main.samples WHERE device_id = ? GROUP BY device_id, collected_at / {width}""",
            (dev,),
        )
    c.execute("COMMIT")

step = 250
done = LONG
for lo in range(LONG + 1, a.devices + 1, step):
    if time.time() - t0 > a.budget_s:
        print(f"fleet_fill: time budget reached after {done} devices", file=sys.stderr)
        break
    hi = min(lo + step - 1, a.devices)
    c.execute("BEGIN")
    c.execute(
        f"""INSERT INTO main.samples (device_id, seq, collected_at, {s_list})
        SELECT n.id, s.seq, s.collected_at, {s_sel}
        FROM main.devices n JOIN hist ON hist.r = (n.id - 1) % ?
            JOIN t.samples s ON s.device_id = hist.tid
        WHERE n.id BETWEEN ? AND ? ORDER BY n.id, s.seq""",
        (H, lo, hi),
    )
    for table in rollups:
        rc = r_cols[table]
        c.execute(
            f"""INSERT INTO main.{table} (device_id, {", ".join(rc)})
            SELECT n.id, {", ".join("r." + x for x in rc)}
            FROM main.devices n JOIN hist ON hist.r = (n.id - 1) % ?
                JOIN t.{table} r ON r.device_id = hist.tid
            WHERE n.id BETWEEN ? AND ? ORDER BY n.id, r.t""",
            (H, lo, hi),
        )
    c.execute("COMMIT")
    done = hi
    if hi % 2000 == 0:
        print(f"fleet_fill: {hi} devices, {time.time() - t0:.0f} s", file=sys.stderr)
# Devices without copied history keep their copied latest state (a sample that is not stored):
# the list and summary read only the device row.
samples = c.execute("SELECT count(*) FROM main.samples").fetchone()[0] or 0
c.execute("DETACH DATABASE t")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
c.close()
print(json.dumps({"devices": a.devices, "devices_with_history": done, "samples": samples,
                  "long_history_devices": LONG, "template_devices": T,
                  "history_templates": H, "rows_per_device": full,
                  "seconds": round(time.time() - t0, 1)}))
