#!/usr/bin/env bash
# Part 1: ingest. The simulator (64 concurrent devices, gzip batches of 100 samples) against a
# release rt-server on SQLite, then the baselines: the server's decode path alone (parse-only:
# inflate, parse, validate, prepare the compact rows; no HTTP, no storage) and a plain diesel
# batch insert of the same rows into a fresh SQLite file with the same schema; bytes per stored
# sample; and ingest latency while retention deletes a large expired range. Leaves
# target/bench/ingest-data (about 1 M samples) for the export and query parts.
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
n_stored="$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*) from samples').fetchone()[0])" "$DATA/rt.db")"
per_sample="$(python3 -c "print(f'{$db_bytes/$n_stored:.0f}')")"
# Where the bytes are (SQLite's dbstat, when the python sqlite3 module has it).
breakdown="$(python3 - "$DATA/rt.db" <<'PY' || true
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
try:
    rows = c.execute("select name, sum(pgsize) from dbstat group by name order by 2 desc").fetchall()
except sqlite3.Error:
    sys.exit(0)
n = c.execute("select count(*) from samples").fetchone()[0]
print(", ".join(f"{name} {b / n:.0f}" for name, b in rows[:8] if b / n >= 1))
PY
)"

log "baseline: plain diesel insert of the same rows"
PLAIN_CMD="cargo run --release -p rt-server --example bench_plain_insert -- --source target/bench/ingest-data/rt.db --dest target/bench/plain.db --batch 100 --tx-rows 1000"
timeout 300 "$REL/examples/bench_plain_insert" --source "$DATA/rt.db" --dest "$OUT/plain.db" \
    --batch 100 --tx-rows 1000 >"$OUT/plain.json"
base="$(jget "$OUT/plain.json" '["rows_per_s"]')"
base_rows="$(jget "$OUT/plain.json" '["rows"]')"
ratio="$(python3 -c "print(f'{$sps/$base:.2f}')")"

log "baseline: parse-only (the server's decode path, no HTTP, no storage)"
PARSE_CMD="cargo run --release -p rt-server --example bench_parse_only -- --source target/bench/ingest-data/rt.db --batch 100 --limit 300000 --threads 2"
timeout 300 "$REL/examples/bench_parse_only" --source "$DATA/rt.db" --batch 100 --limit 300000 \
    --threads 2 >"$OUT/parse-only.json"
parse_sps="$(jget "$OUT/parse-only.json" '["samples_per_s"]')"
parse_n="$(jget "$OUT/parse-only.json" '["samples"]')"
parse_ratio="$(python3 -c "print(f'{$sps/$parse_sps:.2f}')")"

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

# The same rate-limited upload while retention deletes a large expired range: a copy of the ingest
# database served with raw samples and 5m rollups kept 1 day (6 of its 7 days expire); retention
# runs at start, the upload starts at once.
XDATA="$OUT/ingest-retention-data"
rm -rf "$XDATA"; mkdir -p "$XDATA"
cp "$DATA"/rt.db "$XDATA/"
printf '[retention]\nraw_days = 1\nrollup_5m_days = 1\n' >"$XDATA/rt-server.toml"
x_before="$(python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select count(*) from samples').fetchone()[0] + c.execute('select count(*) from rollup_5m').fetchone()[0])" "$XDATA/rt.db")"
NO_COLOR=1 RT_CONFIG="$XDATA/rt-server.toml" RUST_LOG=info start_server "$XDATA"
x_t0="$(date +%s.%N)"
ADMIN_TOKEN="$(login)"
ENROLL="$(enroll_token)"
log "ingest at --rate $RATE while retention runs"
timeout 200 "$REL/rt-sim" --devices 64 --history 7d --interval 5m --seed 10 --server "$SERVER_URL" \
    --token "$ENROLL" --concurrency 64 --batch 100 --rate "$RATE" --summary-json "$OUT/ingest-retention.json" \
    --quiet 2>"$OUT/ingest-retention.log"
x_t1="$(date +%s.%N)"
for i in $(seq 1 600); do
    grep -q "retention removed expired data" "$OUT/server-${SERVER_URL##*:}.log" && break
    sleep 0.5
done
x_log="$(grep -m1 "retention removed expired data" "$OUT/server-${SERVER_URL##*:}.log" | sed 's/\x1b\[[0-9;]*m//g' || true)"
x_t2="$(date +%s.%N)"
stop_server
x_del="$(echo "$x_log" | sed -n 's/.*deleted=\([0-9]*\).*/\1/p')"
x_span="$(python3 -c "print(f'{$x_t2-$x_t0:.0f}')")"
x_sim="$(python3 -c "print(f'{$x_t1-$x_t0:.0f}')")"
rm -rf "$XDATA"
x_p50="$(jget "$OUT/ingest-retention.json" '["batch_latency_p50_ms"]')"
x_p99="$(jget "$OUT/ingest-retention.json" '["batch_latency_p99_ms"]')"
x_sps="$(jget "$OUT/ingest-retention.json" '["samples_per_s"]')"
v5="$(verdict "$x_p99" '<=' 50)"

v1="$(verdict "$sps" '>=' 100000)"
v2="$(verdict "$ratio" '>=' 0.5)"
v3="$(verdict "$p99" '<=' 50)"
v6="$(verdict "$per_sample" '<=' 200)"
cat >"$FRAG" <<MD
## 1. Ingest

Run: $(machine_line)

Server: release \`rt-server\` on a fresh SQLite file (WAL, \`synchronous=NORMAL\`, UNIQUE(device_id, seq) dedup index),
single group-commit writer. Load: \`$SIM_CMD\`
($DEVICES devices x 7 days x 5 min, $CONC devices uploading at a time, gzip JSON batches of $BATCH samples; the
simulator runs on the same 2 cores as the server and generates, serialises and compresses every sample).
Baselines: parse-only \`$PARSE_CMD\` (the server's own decode path — gzip inflate, streaming JSON parse,
validation, compact row and hash — over $parse_n of the stored samples rebuilt in full and gzipped in batches of 100,
on 2 threads; no HTTP, no storage); plain insert \`$PLAIN_CMD\` (the very rows the server stored, read back and
inserted with diesel multi-row \`INSERT\`s of 100 rows, 1000 rows a transaction, into a fresh file made by the
server's migrations; only the inserts are timed; the server additionally maintains three rollup tiers and the
devices' latest state, which the plain insert does not).

| figure | value | baseline | ratio | target | verdict |
| --- | ---: | ---: | ---: | --- | --- |
| samples/s end to end (simulator) | $(printf %.0f "$sps") | $(printf %.0f "$base") rows/s plain insert ($base_rows rows) | $ratio | >= 100,000/s and >= 0.5 of plain | $v1 / $v2 |
| samples/s end to end vs parse-only | $(printf %.0f "$sps") | $(printf %.0f "$parse_sps") samples/s parse-only | $parse_ratio | | |
| bytes per stored sample (database files / samples) | $per_sample | | | <= 200 | $v6 |
| batch latency p50 | $(printf %.1f "$p50") ms | | | | |
| batch latency p99 | $(printf %.1f "$p99") ms | | | <= 50 ms | $v3 |
| same upload rate-limited to $RATE samples/s (\`--devices 64 --rate $RATE\`): achieved | $(printf %.0f "$r_sps") samples/s | | | | |
| rate-limited: batch latency p50 / p99 | $(printf %.1f "$r_p50") / $(printf %.1f "$r_p99") ms | | | <= 50 ms (p99) | $v4 |
| rate-limited while retention deletes ${x_del:-?} expired rows: achieved | $(printf %.0f "$x_sps") samples/s | | | | |
| rate-limited while retention deletes: batch latency p50 / p99 | $(printf %.1f "$x_p50") / $(printf %.1f "$x_p99") ms | $(printf %.1f "$r_p99") ms without | | <= 50 ms (p99) | $v5 |

Details: $sent samples sent, $acc accepted, $fb failed batches, $(printf %.1f "$el") s wall; server CPU ${srv_cpu} s
(= $(python3 -c "print(f'{$srv_cpu/$el*100:.0f}')") % of one core), simulator CPU ${sim_cpu} s, server peak RSS ${srv_hwm} MiB;
server CPU by thread: $(awk -F'\t' '{printf "%s%s %s s", (NR>1?", ":""), $1, $2}' "$OUT/ingest-threads.tsv");
database after the run $(python3 -c "print(f'{$db_bytes/1048576:.0f}')") MiB for $n_stored samples = $per_sample bytes a sample, indexes and
rollup tiers included${breakdown:+ (bytes a sample by table/index: $breakdown)}.
Retention run: a copy of that database with \`[retention] raw_days = 1, rollup_5m_days = 1\` ($x_before raw rows + 5m
buckets before); retention started with the server and deleted ${x_del:-?} rows; the upload took ${x_sim} s, retention
had finished ${x_span} s after the start (server log: \`${x_log##*INFO }\`).
MD
log "ingest done: $sps samples/s, p99 $p99 ms, baseline $base rows/s"
cat "$FRAG"
