#!/usr/bin/env bash
# Part 2: fleet queries at 10,000 and 100,000 devices (BENCH_FLEET_SIZES). Builds each fleet
# database from the ingest run's devices (fleet_fill.py, INSERT ... SELECT of the store-v2 rows
# and rollups; not measured), starts a release rt-server on it and times repeated requests over
# one keep-alive connection (http_bench.py): the first page of /devices, a filtered page,
# /fleet/summary, and one device's history over 24 h, 30 d and 365 d (devices 1-3 have a year of
# history). A fleet-wide 30-day aggregate over the daily rollups is timed in SQL (there is no
# endpoint for it yet).
source "$(dirname "$0")/common.sh"

SIZES="${BENCH_FLEET_SIZES:-10000 100000}"
TEMPLATE="$OUT/ingest-data/rt.db"
FRAG="$OUT/2-queries.md"
[ -f "$TEMPLATE" ] || { log "run scripts/bench/ingest.sh first (template $TEMPLATE missing)"; exit 1; }
HB="python3 $ROOT/scripts/bench/http_bench.py"
: >"$OUT/queries-sets.md"
: >"$OUT/queries-rows.md"

for N_DEV in $SIZES; do
    DATA="$OUT/fleet-data-$N_DEV"
    if [ "${BENCH_FLEET_REUSE:-0}" = 1 ] && [ -f "$DATA/fill.json" ]; then
        log "queries: reusing $DATA"
    else
        rm -rf "$DATA"; mkdir -p "$DATA"
        ensure_admin "$DATA"   # creates rt.db through the server's migrations
        log "queries: filling $N_DEV devices (copying the ingest run's history)"
        timeout 400 python3 "$ROOT/scripts/bench/fleet_fill.py" --template "$TEMPLATE" --dest "$DATA/rt.db" \
            --devices "$N_DEV" --long-history 3 --budget-s "${BENCH_FILL_BUDGET_S:-200}" >"$DATA/fill.json"
    fi
    cat "$DATA/fill.json" >&2
    FILL_HIST="$(jget "$DATA/fill.json" '["devices_with_history"]')"
    FILL_ROWS="$(jget "$DATA/fill.json" '["samples"]')"
    FILL_S="$(jget "$DATA/fill.json" '["seconds"]')"
    DB_MIB="$(du -cb "$DATA"/rt.db* | tail -1 | awk '{printf "%.0f", $1/1048576}')"
    echo "- **$N_DEV devices**: $FILL_HIST of them with history ($FILL_ROWS raw sample rows plus their rollups; devices 1-3 with 52 weeks, the others 7 days at 5 min), database $DB_MIB MiB, filled in $FILL_S s by \`scripts/bench/fleet_fill.py --template target/bench/ingest-data/rt.db --devices $N_DEV --long-history 3\`." >>"$OUT/queries-sets.md"

    EPS=("list=/api/v1/devices?limit=50"
         "filtered=/api/v1/devices?limit=50&health=warning&health=critical&state=deployed&sort=-cpu"
         "summary=/api/v1/fleet/summary"
         "metrics24h@1-$FILL_HIST=/api/v1/devices/{id}/metrics?from={from24h}&to={now}"
         "metrics30d@1-$FILL_HIST=/api/v1/devices/{id}/metrics?from={from30d}&to={now}"
         "metrics365d@1-3=/api/v1/devices/{id}/metrics?from={from365d}&to={now}")
    start_server "$DATA"
    ADMIN_TOKEN="$(login)"
    log "queries: timing on $N_DEV devices"
    timeout 300 $HB --url "$SERVER_URL" --token "$ADMIN_TOKEN" --n "${BENCH_QUERY_N:-200}" --warmup 5 \
        --ids "1-$FILL_HIST" "${EPS[@]}" >"$OUT/queries-$N_DEV.json"
    srv_hwm="$(proc_hwm_mib "$SERVER_PID")"
    stop_server
    # Fleet-wide 30-day aggregate over the daily rollups (per device and for the whole fleet).
    python3 - "$DATA/rt.db" >"$OUT/queries-agg-$N_DEV.json" <<'PY'
import json, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1])
since = int(time.time() * 1000) - 30 * 86400000
q = {"agg_per_device": "SELECT device_id, SUM(cpu_sum) / SUM(n), MAX(cpu_max), SUM(mem_sum) / SUM(n), "
                       "MAX(disk_max) FROM rollup_1d WHERE t >= ? GROUP BY device_id",
     "agg_fleet": "SELECT SUM(n), SUM(cpu_sum) / SUM(n), MAX(cpu_max), SUM(mem_sum) / SUM(n), MAX(disk_max) "
                  "FROM rollup_1d WHERE t >= ?"}
out = []
for name, sql in q.items():
    c.execute(sql, (since,)).fetchall()
    lat = []
    for _ in range(30):
        t = time.perf_counter(); rows = c.execute(sql, (since,)).fetchall(); lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    out.append({"name": name, "n": len(lat), "p50_ms": round(lat[len(lat) // 2], 2), "p99_ms": round(lat[-1], 2),
                "mean_ms": round(sum(lat) / len(lat), 2), "avg_bytes": len(rows)})
print(json.dumps(out))
PY
    python3 - "$OUT/queries-$N_DEV.json" "$OUT/queries-agg-$N_DEV.json" "$N_DEV" "$srv_hwm" >>"$OUT/queries-rows.md" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1])) + json.load(open(sys.argv[2]))
n, hwm = sys.argv[3], sys.argv[4]
target = {"list": 20, "filtered": 20, "summary": 20, "metrics24h": 50, "metrics30d": 50, "metrics365d": 50}
label = {"list": "first page of /devices (limit 50, sorted by name)",
         "filtered": "filtered page (health warning/critical, deployed, sorted by cpu desc)",
         "summary": "/fleet/summary", "metrics24h": "/devices/{id}/metrics, 24 h (5m tier)",
         "metrics30d": "/devices/{id}/metrics, 30 d (1d tier)", "metrics365d": "/devices/{id}/metrics, 365 d (1d tier)",
         "agg_per_device": "fleet-wide 30 d aggregate per device (SQL on rollup_1d, rows out)",
         "agg_fleet": "fleet-wide 30 d aggregate, one row (SQL on rollup_1d)"}
for r in rows:
    t = target.get(r["name"])
    v = "" if t is None else ("met" if r["p99_ms"] <= t else f"MISSED by {r['p99_ms'] / t:.1f}x")
    ts = "" if t is None else f"<= {t} ms"
    if n == "100000" and r["name"] in ("list", "summary"):
        ts += " (the target's size)"
    print(f"| {label[r['name']]} | {n} | {r['n']} | {r['p50_ms']} | {r['p99_ms']} | {r['mean_ms']} | {r['avg_bytes']} | {ts} | {v} |")
print(f"| (server peak RSS on this set: {hwm} MiB) | {n} | | | | | | | |")
PY
done

cat >"$FRAG" <<MD
## 2. Fleet queries

Run: $(machine_line)

Data sets (store v2: compact raw rows, rollup tiers 5m/1h/1d, stored health level per device):
$(cat "$OUT/queries-sets.md")

Every device is a copy of one of the ingest run's simulated devices (inventory, latest sample, fleet-view columns
and stored level); history rows and rollup buckets are copied from an ingest device that reported all 7 days
(timestamps included), as far as the fill's time budget goes; devices past it have their device row only (the
list and summary read only device rows). Server: release \`rt-server\`, default configuration. Client:
\`scripts/bench/http_bench.py\` (one keep-alive HTTP/1.1 connection, sequential requests, a few warm-up requests
first; device ids drawn at random among the devices with history; the client's own overhead on loopback is
~0.1 ms). Response bytes for the SQL aggregates: rows returned. The aggregates are timed with Python's sqlite3
on the same file (no endpoint serves them yet).

| request | devices | n | p50 ms | p99 ms | mean ms | response bytes | target p99 | verdict |
| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |
$(cat "$OUT/queries-rows.md")
MD
log "queries done"
cat "$FRAG"
