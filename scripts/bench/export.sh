#!/usr/bin/env bash
# Part 3: export of the ingest run's ~1 M samples as CSV and NDJSON through `rt-tui export`
# against a release rt-server: rows/s and peak RSS of server and client, for the whole data set
# and for a 24 h slice (~1/7 of it), to show whether memory stays flat with size.
source "$(dirname "$0")/common.sh"

DATA="$OUT/ingest-data"
FRAG="$OUT/3-export.md"
[ -f "$DATA/rt.db" ] || { log "run scripts/bench/ingest.sh first"; exit 1; }
ROWS_MD="$OUT/export-rows.md"
: >"$ROWS_MD"
all_ok=1
for fmt in csv ndjson; do
    for win in 30d 24h; do
        # A fresh server per export, so that its peak RSS (VmHWM) belongs to this export alone.
        start_server "$DATA"
        ADMIN_TOKEN="$(login)"
        srv_idle="$(proc_rss_mib "$SERVER_PID")"
        f="$OUT/export.$fmt"
        rm -f "$f"
        log "export: $fmt --since $win"
        t0="$(date +%s.%N)"
        RT_SERVER_URL="$SERVER_URL" RT_TOKEN="$ADMIN_TOKEN" /usr/bin/time -v -o "$OUT/export-$fmt-$win.time" \
            timeout 300 "$REL/rt-tui" export --format "$fmt" --what samples --since "$win" --output "$f" \
            2>"$OUT/export-$fmt-$win.log"
        t1="$(date +%s.%N)"
        srv_hwm="$(proc_hwm_mib "$SERVER_PID")"
        stop_server
        lines="$(wc -l <"$f")"
        if [ "$fmt" = csv ]; then rows=$((lines - 1)); else rows=$lines; fi
        bytes="$(stat -c %s "$f")"
        wall="$(python3 -c "print(f'{$t1-$t0:.2f}')")"
        rps="$(python3 -c "print(f'{$rows/($t1-$t0):.0f}')")"
        cli_hwm="$(python3 -c "print(f'{int(\"$(tv_get "$OUT/export-$fmt-$win.time" 'Maximum resident set size')\")/1024:.1f}')")"
        v_srv="$(verdict "$srv_hwm" '<=' 64)"; v_cli="$(verdict "$cli_hwm" '<=' 64)"
        [ "$v_srv$v_cli" = metmet ] || all_ok=0
        echo "| $fmt | --since $win | $rows | $(python3 -c "print(f'{$bytes/1048576:.0f}')") | $wall | $rps | $srv_idle -> $srv_hwm | $cli_hwm | <= 64 MiB each | $v_srv / $v_cli |" >>"$ROWS_MD"
        rm -f "$f"
    done
done

cat >"$FRAG" <<MD
## 3. Export

Run: $(machine_line)

Data: the ingest run's database ($(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from samples').fetchone()[0])" "$DATA/rt.db") samples, 7 days). Command, once per format and window, against a
freshly started release \`rt-server\` (so that its peak RSS belongs to that export):
\`RT_SERVER_URL=... RT_TOKEN=... /usr/bin/time -v rt-tui export --format csv|ndjson --what samples --since 30d|24h --output FILE\`.
Rows/s = rows in the file / wall time of the command. Server peak = VmHWM from /proc (idle RSS after start-up ->
peak); client peak = /usr/bin/time's maximum resident set size. "Flat" means the peak does not grow from the
24 h slice (~1/7 of the rows) to the whole set.

| format | window | rows | MiB | seconds | rows/s | server RSS MiB (idle -> peak) | client peak MiB | target | verdict (server / client) |
| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |
$(cat "$ROWS_MD")

Baseline: none is set by the issue for export; the memory bound (<= 64 MB, flat) is the target.
MD
log "export done"
cat "$FRAG"
