#!/usr/bin/env bash
# Profiles of the missed server targets (not run by bench.sh: it needs its own build). Builds an
# unstripped release rt-server in target/bench-prof (same profile, symbols kept), then records
# `perf record -g` of the server during (a) the ingest load and (b) repeated /devices and
# /fleet/summary requests on the fleet data set; writes the top symbols to
# target/bench/profile-{ingest,list}.txt. Needs perf and the data sets of ingest.sh/queries.sh.
source "$(dirname "$0")/common.sh"

PROF="$ROOT/target/bench-prof"
CARGO_TARGET_DIR="$PROF" CARGO_PROFILE_RELEASE_STRIP=none cargo build --release -p rt-server
SRV="$PROF/release/rt-server"
REL_SAVE="$REL"

report() { # data out
    perf report -i "$1" --no-children --percent-limit 0.7 --stdio -g none 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -45 >"$2"
    perf report -i "$1" --children --percent-limit 3 --stdio -g none 2>/dev/null |
        grep -v '^#' | grep -v '^$' | head -45 >"${2%.txt}-inclusive.txt"
    "$ROOT/scripts/bench/perf_categories.sh" "$1" >"${2%.txt}-categories.txt"
}

# (a) ingest: 128 devices, 64 at a time, batches of 100.
D="$OUT/prof-ingest-data"; rm -rf "$D"; mkdir -p "$D"
REL="$PROF/release" ensure_admin "$D"
REL="$PROF/release" start_server "$D"
ADMIN_TOKEN="$(login)"; ENROLL="$(enroll_token)"
perf record -F 499 -g -p "$SERVER_PID" -o "$OUT/perf-ingest.data" 2>/dev/null &
PERF=$!
timeout 200 "$REL_SAVE/rt-sim" --devices 128 --history 7d --interval 5m --seed 3 \
    --server "$SERVER_URL" --token "$ENROLL" --concurrency 64 --batch 100 --quiet 2>"$OUT/prof-ingest.log"
kill -INT "$PERF"; wait "$PERF" || true
stop_server; rm -rf "$D"
report "$OUT/perf-ingest.data" "$OUT/profile-ingest.txt"

# (b) list + summary on the fleet data set.
if [ -f "$OUT/fleet-data-${BENCH_PROFILE_DEVICES:-100000}/rt.db" ]; then
    REL="$PROF/release" start_server "$OUT/fleet-data-${BENCH_PROFILE_DEVICES:-100000}"
    ADMIN_TOKEN="$(login)"
    perf record -F 499 -g -p "$SERVER_PID" -o "$OUT/perf-list.data" 2>/dev/null &
    PERF=$!
    timeout 200 python3 "$ROOT/scripts/bench/http_bench.py" --url "$SERVER_URL" --token "$ADMIN_TOKEN" \
        --n 40 --warmup 2 "list=/api/v1/devices?limit=50" "summary=/api/v1/fleet/summary" >/dev/null
    kill -INT "$PERF"; wait "$PERF" || true
    stop_server
    report "$OUT/perf-list.data" "$OUT/profile-list.txt"
fi
log "profiles in $OUT/profile-*.txt"
