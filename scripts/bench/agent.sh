#!/usr/bin/env bash
# Part 4: agent footprint. `rt-agent collect` one-shot (CPU time, peak RSS), `rt-agent run` at a
# 1 s interval for 60 s (CPU per collection, steady RSS), binary size; baseline in the same run:
# prometheus-node-exporter scraped once a second for 60 s (CPU per scrape, RSS).
source "$(dirname "$0")/common.sh"

FRAG="$OUT/4-agent.md"
DUR="${BENCH_AGENT_SECONDS:-60}"
DATA="$OUT/agent-data"
ST="$OUT/agent-state"
rm -rf "$DATA" "$ST"; mkdir -p "$DATA" "$ST"

NE="$(command -v prometheus-node-exporter || true)"
if [ -z "$NE" ]; then
    log "installing prometheus-node-exporter (Debian package)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y prometheus-node-exporter >"$OUT/apt.log" 2>&1 || true
    NE="$(command -v prometheus-node-exporter || true)"
fi

ensure_admin "$DATA"
start_server "$DATA"
ADMIN_TOKEN="$(login)"
ENROLL="$(enroll_token)"
export RT_AGENT_STATE_DIR="$ST"
timeout 60 "$REL/rt-agent" enroll --non-interactive --server "$SERVER_URL" --token "$ENROLL" \
    --credential-store file --install none --name bench-agent >"$OUT/agent-enroll.log" 2>&1

# One-shot collect, 5 times; median CPU and peak RSS.
: >"$OUT/agent-collect.tsv"
for i in 1 2 3 4 5; do
    /usr/bin/time -v -o "$OUT/agent-collect-$i.time" timeout 60 "$REL/rt-agent" collect \
        >"$OUT/agent-collect-$i.log" 2>&1
    u="$(tv_get "$OUT/agent-collect-$i.time" 'User time')"; s="$(tv_get "$OUT/agent-collect-$i.time" 'System time')"
    r="$(tv_get "$OUT/agent-collect-$i.time" 'Maximum resident set size')"
    w="$(tv_get "$OUT/agent-collect-$i.time" 'Elapsed (wall clock)')"
    echo -e "$u\t$s\t$r\t$w" >>"$OUT/agent-collect.tsv"
done
read -r c_cpu_ms c_rss_mib c_wall <<<"$(python3 - "$OUT/agent-collect.tsv" <<'PY'
import sys, statistics
rows = [l.split("\t") for l in open(sys.argv[1]).read().strip().splitlines()]
cpu = statistics.median(float(u) + float(s) for u, s, _, _ in rows) * 1000
rss = statistics.median(int(r) for _, _, r, _ in rows) / 1024
def wall(w):
    parts = [float(x) for x in w.strip().split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
print(f"{cpu:.0f} {rss:.1f} {statistics.median(wall(r[3]) for r in rows):.2f}")
PY
)"

# Resident: rt-agent run --interval 1s --count DUR.
log "agent: rt-agent run --interval 1s --count $DUR"
/usr/bin/time -v -o "$OUT/agent-run.time" timeout $((DUR + 60)) "$REL/rt-agent" run --interval 1s --count "$DUR" \
    >"$OUT/agent-run.log" 2>&1 &
TPID=$!
PIDS_TO_KILL+=("$TPID")
APID=""
for _ in $(seq 1 50); do
    APID="$(pgrep -P "$(pgrep -P $TPID | head -1)" -x rt-agent 2>/dev/null | head -1 || true)"
    [ -z "$APID" ] && APID="$(pgrep -P $TPID -x rt-agent | head -1 || true)"
    [ -n "$APID" ] && break
    sleep 0.1
done
sleep 5
a_cpu0="$(proc_cpu_s "$APID")"; a_t0="$(date +%s.%N)"
rss_samples=()
for _ in $(seq 1 $((DUR - 10))); do
    rss_samples+=("$(proc_rss_mib "$APID" 2>/dev/null || echo 0)")
    sleep 1
done
a_cpu1="$(proc_cpu_s "$APID")"; a_t1="$(date +%s.%N)"
a_hwm="$(proc_hwm_mib "$APID")"
wait "$TPID" || true
a_total_cpu="$(python3 -c "import sys; print(float(sys.argv[1])+float(sys.argv[2]))" "$(tv_get "$OUT/agent-run.time" 'User time')" "$(tv_get "$OUT/agent-run.time" 'System time')")"
steady="$(python3 -c "import sys; v=[float(x) for x in sys.argv[1:] if float(x)>0]; print(f'{sorted(v)[len(v)//2]:.1f}')" "${rss_samples[@]}")"
# Collections in the steady window = its length in seconds at a 1 s interval.
a_cpu_per="$(python3 -c "w=$a_t1-$a_t0; print(f'{($a_cpu1-$a_cpu0)/round(w)*1000:.2f}')")"
a_cpu_all="$(python3 -c "print(f'{$a_total_cpu/$DUR*1000:.2f}')")"
stop_server

# Baseline: node_exporter.
if [ -n "$NE" ]; then
    port="$(free_port)"
    "$NE" --web.listen-address="127.0.0.1:$port" >"$OUT/node-exporter.log" 2>&1 &
    NPID=$!
    PIDS_TO_KILL+=("$NPID")
    for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/metrics" -o /dev/null 2>/dev/null && break; sleep 0.1; done
    curl -fsS "http://127.0.0.1:$port/metrics" -o /dev/null
    n_cpu0="$(proc_cpu_s "$NPID")"; t0="$(date +%s.%N)"
    nrss=()
    n=0
    for _ in $(seq 1 $((DUR - 10))); do
        curl -fsS "http://127.0.0.1:$port/metrics" -o "$OUT/node-exporter.prom"
        n=$((n + 1))
        nrss+=("$(proc_rss_mib "$NPID")")
        sleep 1
    done
    n_cpu1="$(proc_cpu_s "$NPID")"
    n_hwm="$(proc_hwm_mib "$NPID")"
    kill "$NPID"; wait "$NPID" 2>/dev/null || true
    n_series="$(grep -vc '^#' "$OUT/node-exporter.prom")"
    n_cpu_per="$(python3 -c "print(f'{($n_cpu1-$n_cpu0)/$n*1000:.2f}')")"
    n_steady="$(python3 -c "import sys; v=sorted(float(x) for x in sys.argv[1:]); print(f'{v[len(v)//2]:.1f}')" "${nrss[@]}")"
    n_ver="$("$NE" --version 2>&1 | head -1)"
else
    n_cpu_per="nan"; n_steady="nan"; n_hwm="nan"; n_series="?"; n=0; n_ver="not installed (apt-get failed)"
fi

# Where a collection's CPU goes (sysinfo refreshes part by part; examples/bench_collect_parts.rs).
PARTS_MD=""
if [ -x "$REL/examples/bench_collect_parts" ]; then
    timeout 120 "$REL/examples/bench_collect_parts" --iterations 100 >"$OUT/agent-parts.json" || true
    if [ -s "$OUT/agent-parts.json" ]; then
        PARTS_MD="$(python3 - "$OUT/agent-parts.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(f"Where a collection's CPU goes (`cargo run --release -p rt-agent --example bench_collect_parts`, "
      f"{d['iterations']} refreshes each, {d['processes']} processes on the machine), CPU ms per refresh: "
      f"all processes with every thread (sysinfo's default, the agent before the fix) **{d['processes_as_agent_ms']}**, "
      f"without tasks (what the agent does, at most every 30 s) {d['processes_without_tasks_ms']}, CPU + memory {d['cpu_memory_ms']}, "
      f"disks {d['disks_ms']}, networks {d['networks_ms']}, sensors {d['components_ms']}.")
PY
)"
    fi
fi

ratio="$(python3 -c "import math; a,b=float('$a_cpu_per'),float('$n_cpu_per'); print('n/a' if math.isnan(b) or b==0 else f'{a/b:.2f}')")"
v_cpu="$(python3 -c "r='$ratio'; print('n/a' if r=='n/a' else ('met' if float(r)<=0.25 else 'MISSED'))")"
v_rss="$(verdict "$steady" '<=' 10)"
bin_size="$(stat -c %s "$REL/rt-agent")"
stripped="$(file -b "$REL/rt-agent" | grep -o 'not stripped\|stripped' | head -1)"

cat >"$FRAG" <<MD
## 4. Agent footprint

Run: $(machine_line)

Commands: \`rt-agent enroll --non-interactive ...\` against a local release server, then \`/usr/bin/time -v rt-agent collect\`
five times (one-shot: collect with two CPU refreshes, queue, upload; median shown) and
\`/usr/bin/time -v rt-agent run --interval 1s --count $DUR\` (resident). The resident process's CPU is read from
/proc/PID/stat over a ${DUR}-10 s steady window starting 5 s after start (collections in the window = its seconds),
RSS polled from /proc once a second (median = steady RSS). Baseline in the same run: \`prometheus-node-exporter
--web.listen-address=127.0.0.1:PORT\` ($n_ver), scraped with \`curl\` once a second, $n scrapes ($n_series series
a scrape); CPU per scrape = its /proc CPU delta over the scrapes / $n.

| figure | rt-agent | node_exporter (baseline) | ratio | target | verdict |
| --- | ---: | ---: | ---: | --- | --- |
| resident CPU per collection / per scrape | $a_cpu_per ms | $n_cpu_per ms | $ratio | <= 0.25 | $v_cpu |
| steady RSS | $steady MiB (peak $a_hwm) | $n_steady MiB (peak $n_hwm) | | <= 10 MB | $v_rss |
| one-shot \`collect\`: CPU, peak RSS, wall | $c_cpu_ms ms, $c_rss_mib MiB, $c_wall s | | | | |
| \`run\` whole process incl. start-up, CPU per collection | $a_cpu_all ms | | | | |
| binary size (release, $stripped) | $(python3 -c "print(f'{$bin_size/1048576:.1f}')") MiB ($bin_size bytes) | $(python3 -c "import os; print(f'{os.path.getsize(\"$NE\")/1048576:.1f} MiB' if '$NE' else '?')") | | | |

$PARTS_MD
MD
log "agent done"
cat "$FRAG"
