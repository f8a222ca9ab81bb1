#!/usr/bin/env bash
# Part 1: ingest. The simulator (64 concurrent devices, gzip batches of 100 samples) against a
# release rt-server on SQLite, then the baseline: a plain diesel batch insert of the same rows
# into a fresh SQLite file with the same schema. Leaves target/bench/ingest-data (about 1 M
# samples) for the export and query parts.
source "$(dirname "$0")/common.sh"

DEVICES="${BENCH_INGEST_DEVICES:-740}"   # ~1,360 samples a device on average (personas: silent, retired, ...) = ~1 M samples
CONC=64
BATCH=100
DATA="$OUT/ingest-data"
FRAG="$OUT/1-ingest.md"
rm -rf "$DATA" "$OUT/plain.db" "$OUT/plain.db-wal" "$OUT/plain.db-shm"
mkdir -p "$DATA"

ensure_admin "$DATA"
start_server "$DATA"
ADMIN_TOKEN="$(login)"
ENROLL="$(enroll_token)"
cpu0="$(proc_cpu_s "$SERVER_PID")"
SIM_CMD="rt-sim --devices $DEVICES --history 7d --interval 5m --seed 8 --server \$URL --token \$ENROLL_TOKEN --concurrency $CONC --batch $BATCH --summary-json ingest-summary.json --quiet"
log "ingest: $SIM_CMD"
/usr/bin/time -v -o "$OUT/ingest-sim.time" timeout 300 "$REL/rt-sim" --devices "$DEVICES" \
    --history 7d --interval 5m --seed 8 --server "$SERVER_URL" --token "$ENROLL" \
    --admin-token "$ADMIN_TOKEN" --concurrency "$CONC" --batch "$BATCH" \
    --summary-json "$OUT/ingest-summary.json" --quiet 2>"$OUT/ingest-sim.log"
cpu1="$(proc_cpu_s "$SERVER_PID")"
thread_cpu "$SERVER_PID" >"$OUT/ingest-threads.tsv"
srv_hwm="$(proc_hwm_mib "$SERVER_PID")"
stop_server

S="$OUT/ingest-summary.json"
sps="$(jget "$S" '["samples_per_s"]')"
p50="$(jget "$S" '["batch_latency_p50_ms"]')"
p99="$(jget "$S" '["batch_latency_p99_ms"]')"
sent="$(jget "$S" '["samples_sent"]')"
acc="$(jget "$S" '["accepted"]')"
el="$(jget "$S" '["elapsed_s"]')"
fb="$(jget "$S" '["failed_batches"]')"
srv_cpu="$(python3 -c "print(f'{$cpu1-$cpu0:.1f}')")"
sim_cpu="$(python3 -c "import sys; print(f'{float(sys.argv[1])+float(sys.argv[2]):.1f}')" "$(tv_get "$OUT/ingest-sim.time" 'User time')" "$(tv_get "$OUT/ingest-sim.time" 'System time')")"
db_bytes="$(du -cb "$DATA"/rt.db* | tail -1 | cut -f1)"
payload_avg="$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(int(c.execute('select avg(length(payload)) from samples').fetchone()[0] or 0))" "$DATA/rt.db")"

log "baseline: plain diesel insert of the same rows"
PLAIN_CMD="cargo run --release -p rt-server --example bench_plain_insert -- --source target/bench/ingest-data/rt.db --dest target/bench/plain.db --batch 100 --tx-rows 1000"
timeout 300 "$REL/examples/bench_plain_insert" --source "$DATA/rt.db" --dest "$OUT/plain.db" \
    --batch 100 --tx-rows 1000 >"$OUT/plain.json"
base="$(jget "$OUT/plain.json" '["rows_per_s"]')"
base_rows="$(jget "$OUT/plain.json" '["rows"]')"
ratio="$(python3 -c "print(f'{$sps/$base:.2f}')")"

# Latency at a sustainable load: the same 64-way upload rate-limited to half the throughput just
# measured (the saturating run's latency is mostly queueing: 64 batches in flight / throughput).
RATE="$(python3 -c "print(int($sps * 0.5 // 1000 * 1000) or 1000)")"
RDATA="$OUT/ingest-rate-data"
rm -rf "$RDATA"; mkdir -p "$RDATA"
ensure_admin "$RDATA"
start_server "$RDATA"
ADMIN_TOKEN="$(login)"
ENROLL="$(enroll_token)"
log "ingest at --rate $RATE"
timeout 200 "$REL/rt-sim" --devices 64 --history 7d --interval 5m --seed 9 --server "$SERVER_URL" \
    --token "$ENROLL" --concurrency 64 --batch 100 --rate "$RATE" --summary-json "$OUT/ingest-rate.json" \
    --quiet 2>"$OUT/ingest-rate.log"
stop_server
rm -rf "$RDATA"
r_sps="$(jget "$OUT/ingest-rate.json" '["samples_per_s"]')"
r_p50="$(jget "$OUT/ingest-rate.json" '["batch_latency_p50_ms"]')"
r_p99="$(jget "$OUT/ingest-rate.json" '["batch_latency_p99_ms"]')"
v4="$(verdict "$r_p99" '<=' 50)"

v1="$(verdict "$sps" '>=' 100000)"
v2="$(verdict "$ratio" '>=' 0.5)"
v3="$(verdict "$p99" '<=' 50)"
cat >"$FRAG" <<MD
## 1. Ingest

Run: $(machine_line)

Server: release \`rt-server\` on a fresh SQLite file (WAL, \`synchronous=NORMAL\`, UNIQUE(device_id, seq) dedup index),
single group-commit writer. Load: \`$SIM_CMD\`
($DEVICES devices x 7 days x 5 min, $CONC devices uploading at a time, gzip JSON batches of $BATCH samples; the
simulator runs on the same 2 cores as the server and generates, serialises and compresses every sample).
Baseline: \`$PLAIN_CMD\` (the very rows the server stored, read back and inserted with diesel multi-row
\`INSERT\`s of 100 rows, 1000 rows a transaction, into a fresh file made by the server's migrations; only the
inserts are timed).

| figure | value | baseline | ratio | target | verdict |
| --- | ---: | ---: | ---: | --- | --- |
| samples/s end to end (simulator) | $(printf %.0f "$sps") | $(printf %.0f "$base") rows/s plain insert ($base_rows rows) | $ratio | >= 100,000/s and >= 0.5 of plain | $v1 / $v2 |
| batch latency p50 | $(printf %.1f "$p50") ms | | | | |
| batch latency p99 | $(printf %.1f "$p99") ms | | | <= 50 ms | $v3 |
| same upload rate-limited to $RATE samples/s (\`--devices 64 --rate $RATE\`): achieved | $(printf %.0f "$r_sps") samples/s | | | | |
| rate-limited: batch latency p50 / p99 | $(printf %.1f "$r_p50") / $(printf %.1f "$r_p99") ms | | | <= 50 ms (p99) | $v4 |

Details: $sent samples sent, $acc accepted, $fb failed batches, $(printf %.1f "$el") s wall; server CPU ${srv_cpu} s
(= $(python3 -c "print(f'{$srv_cpu/$el*100:.0f}')") % of one core), simulator CPU ${sim_cpu} s, server peak RSS ${srv_hwm} MiB;
server CPU by thread: $(awk -F'\t' '{printf "%s%s %s s", (NR>1?", ":""), $1, $2}' "$OUT/ingest-threads.tsv");
database after the run $(python3 -c "print(f'{$db_bytes/1048576:.0f}')") MiB, average stored sample payload $payload_avg bytes.
MD
log "ingest done: $sps samples/s, p99 $p99 ms, baseline $base rows/s"
cat "$FRAG"
