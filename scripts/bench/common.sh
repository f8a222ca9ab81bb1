#!/usr/bin/env bash
# Shared helpers for the benchmark parts (sourced, not run). Loopback only; every server started
# here is killed on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REL="$ROOT/target/release"
OUT="$ROOT/target/bench"
mkdir -p "$OUT"
BENCH_PASSWORD="bench-password-2026-long"
PIDS_TO_KILL=()

cleanup_pids() {
    local p
    for p in "${PIDS_TO_KILL[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS_TO_KILL[@]:-}"; do
        [ -n "$p" ] && wait "$p" 2>/dev/null || true
    done
}
trap cleanup_pids EXIT INT TERM

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

machine_line() {
    local cpu
    cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), $(uname -sr); load average at start $(cut -d' ' -f1-3 /proc/loadavg) (other work on the shared machine competes for the 2 cores)"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# CPU seconds (utime+stime) of a live process.
proc_cpu_s() {
    awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15)/hz}' "/proc/$1/stat"
}
# VmHWM / VmRSS of a live process in MiB.
proc_hwm_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
proc_rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# rt-server user add + start a release server on DATA_DIR; sets SERVER_PID, SERVER_URL.
ensure_admin() {
    local data="$1"
    if ! printf '%s\n' "$BENCH_PASSWORD" | "$REL/rt-server" user add bench --role admin --password-stdin --data-dir "$data" >/dev/null 2>&1; then
        log "admin user exists already in $data (or could not be created)"
    fi
}

start_server() {
    local data="$1" port
    port="$(free_port)"
    SERVER_URL="http://127.0.0.1:$port"
    RUST_LOG="${RUST_LOG:-warn}" "$REL/rt-server" serve --listen "127.0.0.1:$port" --data-dir "$data" \
        >"$OUT/server-$port.log" 2>&1 &
    SERVER_PID=$!
    PIDS_TO_KILL+=("$SERVER_PID")
    local i
    for i in $(seq 1 300); do
        if curl -fsS "$SERVER_URL/readyz" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            log "rt-server exited; log:"; tail -20 "$OUT/server-$port.log" >&2
            return 1
        fi
        sleep 0.1
    done
    log "rt-server did not become ready"; return 1
}

stop_server() {
    if [ -n "${SERVER_PID:-}" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID"
        local i
        for i in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}

# Admin session token on stdout.
login() {
    curl -fsS -X POST "$SERVER_URL/api/v1/auth/login" -H 'Content-Type: application/json' \
        -d "{\"username\":\"bench\",\"password\":\"$BENCH_PASSWORD\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# Enrollment token on stdout (needs ADMIN_TOKEN).
enroll_token() {
    curl -fsS -X POST "$SERVER_URL/api/v1/enrollment-tokens" -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $ADMIN_TOKEN" -d '{"expires_in_hours":24}' |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# "met" / "missed" for value OP target (OP is <= or >=).
verdict() {
    python3 -c "import sys; v,op,t=float(sys.argv[1]),sys.argv[2],float(sys.argv[3]); ok=(v<=t if op=='<=' else v>=t); f=(v/t if op=='<=' else (t/v if v else float('inf'))); print('met' if ok else f'MISSED by {f:.1f}x')" "$1" "$2" "$3"
}

# Field of a JSON file.
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d$2)" "$1"; }

# Value from /usr/bin/time -v output.
tv_get() { grep -F "$2" "$1" | head -1 | sed 's/.*: //'; }

# CPU seconds per thread name of a live process ("name seconds" lines, busiest first).
thread_cpu() {
    local hz t
    hz="$(getconf CLK_TCK)"
    for t in /proc/"$1"/task/*; do
        # comm may contain spaces; fields after the ")" are fixed.
        awk -v hz="$hz" -v comm="$(cat "$t/comm")" '{ sub(/.*\) /, ""); print comm "\t" ($12+$13)/hz }' "$t/stat"
    done | awk -F'\t' '{a[$1]+=$2} END {for (k in a) printf "%s\t%.2f\n", k, a[k]}' | sort -t$'\t' -k2 -rn
}
