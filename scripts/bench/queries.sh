#!/usr/bin/env bash
# Part 2: fleet queries. Builds a large fleet database from the ingest run's devices
# (fleet_fill.py, INSERT ... SELECT; not measured), starts a release rt-server on it and times
# repeated requests over one keep-alive connection (http_bench.py). The per-device history
# queries are also timed on the ingest database itself, whose samples carry their full payloads.
source "$(dirname "$0")/common.sh"

N_DEV="${BENCH_FLEET_DEVICES:-10000}"
TEMPLATE="$OUT/ingest-data/rt.db"
DATA="$OUT/fleet-data"
FRAG="$OUT/2-queries.md"
[ -f "$TEMPLATE" ] || { log "run scripts/bench/ingest.sh first (template $TEMPLATE missing)"; exit 1; }

if [ "${BENCH_FLEET_REUSE:-0}" = 1 ] && [ -f "$DATA/fill.json" ]; then
    log "queries: reusing $DATA"
else
    rm -rf "$DATA"; mkdir -p "$DATA"
    ensure_admin "$DATA"   # creates rt.db through the server's migrations
    log "queries: filling $N_DEV devices (copying the ingest run's history)"
    timeout 330 python3 "$ROOT/scripts/bench/fleet_fill.py" --template "$TEMPLATE" --dest "$DATA/rt.db" \
        --devices "$N_DEV" --budget-s 240 >"$DATA/fill.json"
fi
cat "$DATA/fill.json" >&2
FILL_DEV="$(jget "$DATA/fill.json" '["devices"]')"
FILL_HIST="$(jget "$DATA/fill.json" '["devices_with_history"]')"
FILL_ROWS="$(jget "$DATA/fill.json" '["samples"]')"
FILL_S="$(jget "$DATA/fill.json" '["seconds"]')"
DB_MIB="$(du -cb "$DATA"/rt.db* | tail -1 | awk '{printf "%.0f", $1/1048576}')"

HB="python3 $ROOT/scripts/bench/http_bench.py"
EPS=("list=/api/v1/devices?limit=50"
     "summary=/api/v1/fleet/summary"
     "metrics24h=/api/v1/devices/{id}/metrics?from={from24h}&to={now}"
     "metrics30d=/api/v1/devices/{id}/metrics?from={from30d}&to={now}")
start_server "$DATA"
ADMIN_TOKEN="$(login)"
log "queries: timing on $FILL_DEV devices"
timeout 300 $HB --url "$SERVER_URL" --token "$ADMIN_TOKEN" --n "${BENCH_QUERY_N:-200}" --warmup 5 \
    --ids "1-$FILL_HIST" "${EPS[@]}" >"$OUT/queries.json"
srv_hwm="$(proc_hwm_mib "$SERVER_PID")"
stop_server

# History queries on the ingest data (full payloads in the rows).
start_server "$OUT/ingest-data"
ADMIN_TOKEN="$(login)"
ING_DEV="$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select max(id) from devices').fetchone()[0])" "$TEMPLATE")"
timeout 200 $HB --url "$SERVER_URL" --token "$ADMIN_TOKEN" --n "${BENCH_QUERY_N:-200}" --warmup 5 \
    --ids "1-$ING_DEV" "${EPS[2]}" "${EPS[3]}" >"$OUT/queries-ingest.json"
stop_server

python3 - "$OUT/queries.json" "$OUT/queries-ingest.json" >"$OUT/queries-table.md" <<'PY'
import json, sys
main = json.load(open(sys.argv[1])); ing = json.load(open(sys.argv[2]))
target = {"list": 20, "summary": 20, "metrics24h": 50, "metrics30d": 50}
label = {"list": "first page of /devices (limit 50, sorted by name)", "summary": "/fleet/summary",
         "metrics24h": "/devices/{id}/metrics, 24 h", "metrics30d": "/devices/{id}/metrics, 30 d"}
print("| request | data set | n | p50 ms | p99 ms | mean ms | response bytes | target p99 | verdict |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |")
for ds, rows in (("fleet", main), ("ingest (full payloads)", ing)):
    for r in rows:
        t = target[r["name"]]
        v = "met" if r["p99_ms"] <= t else f"MISSED by {r['p99_ms'] / t:.1f}x"
        t_s = f"<= {t} ms" + (" (implied by the 30 d one)" if r["name"] == "metrics24h" else "")
        print(f"| {label[r['name']]} | {ds} | {r['n']} | {r['p50_ms']} | {r['p99_ms']} | {r['mean_ms']} | {r['avg_bytes']} | {t_s} | {v} |")
PY

cat >"$FRAG" <<MD
## 2. Fleet queries

Run: $(machine_line)

Data set "fleet": $FILL_DEV devices, $FILL_HIST of them with history, $FILL_ROWS sample rows (7 days at 5 min per
device, copied from the ingest devices with a full history), database $DB_MIB MiB. Made by \`scripts/bench/fleet_fill.py --template target/bench/ingest-data/rt.db
--devices $N_DEV\` in $FILL_S s: every device is a copy of one of the ingest run's simulated devices (inventory,
latest sample JSON, fleet-view columns) with the whole history (timestamps included) of an ingest device that reported all 7 days; the copied history rows carry a
2-byte stub instead of the sample JSON (the measured queries read only scalar columns; 20 M full payloads
would be ~30 GB). Data set "ingest": the ingest run's own database (full payloads), for the history queries.
Server: release \`rt-server\`, default configuration. Client: \`scripts/bench/http_bench.py\` (one keep-alive
HTTP/1.1 connection, sequential requests, a few warm-up requests first; device ids drawn at random; the
client's own overhead on loopback is ~0.1 ms). Server peak RSS on the fleet set: $srv_hwm MiB.

$(cat "$OUT/queries-table.md")
MD
log "queries done"
cat "$FRAG"
