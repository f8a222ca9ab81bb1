#!/usr/bin/env bash
# Wine smoke suite for the Windows agent (called by scripts/windows-check.sh, which builds what
# it needs; see docs/agent.md, "Windows").
#
#   scripts/windows/wine-smoke.sh WIN_BIN LINUX_BIN WORK
#
# WIN_BIN holds rt-agent.exe, rt-tui.exe, the bcryptprimitives.dll shim and trust-ca.exe; LINUX_BIN holds the
# Linux rt-server and rt-tui; WORK is an empty scratch directory (the Wine prefix, the servers'
# data, certificates). Runs against real rt-servers on 127.0.0.1 (plain HTTP for the main flow,
# HTTPS with a private CA in its own step) and stops everything it started. Every Wine call is
# bounded by `timeout`.
#
# Environment: WINE64 (default /usr/lib/wine/wine64), WINESERVER (default /usr/lib/wine/wineserver).
set -euo pipefail

WIN_BIN=$1
LINUX_BIN=$2
WORK=$3
WINE64=${WINE64:-/usr/lib/wine/wine64}
WINESERVER=${WINESERVER:-/usr/lib/wine/wineserver}

say() { printf 'wine-smoke: %s\n' "$*" >&2; }
passed=0
ok() { passed=$((passed + 1)); say "ok   $*"; }
fail() {
  say "FAIL $*"
  [ -s "$WORK/last.out" ] && { say "--- stdout"; tail -n 30 "$WORK/last.out" >&2; }
  [ -s "$WORK/last.err" ] && { say "--- stderr"; tail -n 30 "$WORK/last.err" >&2; }
  exit 1
}

unset RT_TOKEN RT_SERVER_URL RT_ENROLL_TOKEN RT_AGENT_STATE_DIR RT_AGENT_CONFIG RT_DATA_DIR \
  RT_LISTEN RT_DATABASE_URL RT_CONFIG RT_CREDENTIAL_STORE RT_INSTALL RT_INTERVAL
export WINEPREFIX="$WORK/prefix"
export WINEDEBUG=-all
# No Mono/Gecko installer prompts, no desktop menu entries; the agent's DLL shim wins.
export WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d;bcryptprimitives=n"
unset DISPLAY WAYLAND_DISPLAY
mkdir -p "$WORK"

SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  timeout 30 "$WINESERVER" -k 2>/dev/null || true
}
trap cleanup EXIT

# Runs a Windows program under Wine, at most $T seconds (default 60); stdout/stderr are kept in
# $WORK/last.out / last.err, the exit code in $rc.
wine_run() {
  local exe=$1
  shift
  set +e
  timeout -k 5 "${T:-60}" "$WINE64" "$WIN_BIN/$exe" "$@" >"$WORK/last.out" 2>"$WORK/last.err"
  rc=$?
  set -e
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    fail "$exe $* did not finish within ${T:-60} s"
  fi
  return 0
}
agent() { wine_run rt-agent.exe "$@"; }
# A Unix path as Wine's Z: drive sees it.
winpath() { printf 'Z:%s' "${1//\//\\}"; }

# 1. Wine prefix (fresh for every run: nothing from an earlier run can make a check pass).
say "creating the Wine prefix"
timeout -k 5 180 "$WINE64" wineboot --init >"$WORK/wineboot.log" 2>&1 || {
  tail -n 20 "$WORK/wineboot.log" >&2
  fail "wineboot did not create the prefix"
}
PROGRAMDATA="$WINEPREFIX/drive_c/ProgramData"
[ -d "$PROGRAMDATA" ] || fail "no ProgramData in the Wine prefix"

# 2. The Linux server on a free loopback port.
free_port() {
  local p
  for _ in $(seq 1 20); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  fail "no free port on 127.0.0.1"
}
PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
DATA="$WORK/server-data"
start_server() {
  "$LINUX_BIN/rt-server" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
    >>"$WORK/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "$URL/readyz" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$WORK/server.log" >&2; fail "rt-server exited"; }
    sleep 0.5
  done
  fail "rt-server not ready after 60 s"
}
stop_server() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
mkdir -p "$DATA"
start_server
ok "rt-server on $URL"

ADMIN_PW=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
printf '%s\n' "$ADMIN_PW" | "$LINUX_BIN/rt-server" user add admin --role admin --password-stdin \
  --data-dir "$DATA" >/dev/null 2>&1 || fail "cannot create the admin account"
ADMIN_TOKEN=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$URL/api/v1/auth/login" | jq -r .token)
[ -n "$ADMIN_TOKEN" ] && [ "$ADMIN_TOKEN" != null ] || fail "cannot sign in as admin"
tui() { "$LINUX_BIN/rt-tui" --server "$URL" --token "$ADMIN_TOKEN" "$@"; }
enroll_token() { tui enroll-token create --expires 1h --uses "$1" 2>/dev/null | tail -n 1 | tr -d '[:space:]'; }
ENROLL_TOKEN=$(enroll_token 1)
[ -n "$ENROLL_TOKEN" ] || fail "cannot create an enrollment token"

# 3. The agent starts (the ProcessPrng shim is in place).
agent --version
[ "$rc" = 0 ] && grep -q '^rt-agent ' "$WORK/last.out" || fail "rt-agent.exe --version"
ok "rt-agent.exe runs under Wine: $(cat "$WORK/last.out")"

# 4. Enroll with a token into the default state directory, %ProgramData%\ResourceTracker.
agent enroll --non-interactive --server "$URL" --token "$ENROLL_TOKEN" --name wine-smoke
[ "$rc" = 0 ] || fail "enroll"
STATE="$PROGRAMDATA/ResourceTracker"
[ -f "$STATE/config.json" ] || fail "no config.json under %ProgramData%\\ResourceTracker"
STORE=$(jq -r .credential_store "$STATE/config.json")
ok "enrolled; state in C:\\ProgramData\\ResourceTracker, credential store: $STORE"

# 5. Three samples uploaded, three queued while the server is down, then a sync.
for i in 1 2 3; do
  T=90 agent collect
  [ "$rc" = 0 ] || fail "collect $i"
done
ok "collected and uploaded 3 samples"
stop_server
for i in 4 5 6; do
  T=90 agent collect
  [ "$rc" = 0 ] || fail "collect $i with the server down"
done
agent status --json
jq -e '.queue.depth == 3' "$WORK/last.out" >/dev/null || fail "3 samples queued while the server is down"
ok "server down: 3 more collected and queued"
start_server
agent sync
[ "$rc" = 0 ] || fail "sync after the outage"
DEVICE_ID=$(tui devices --json | jq -r '(if type == "array" then . else .devices end)[] | select(.name == "wine-smoke") | .id')
[ -n "$DEVICE_ID" ] || fail "the server does not list the device wine-smoke"
STORED=$(tui export --format ndjson --what samples --device "$DEVICE_ID" --since 1d | grep -c '"seq"' || true)
[ "$STORED" = 6 ] || fail "the server stores $STORED samples of the device, expected exactly 6"
ok "server back, sync: exactly 6 samples stored"

# 6. status --json parses and says all is well.
agent status --json
[ "$rc" = 0 ] || fail "status --json exit code $rc after a sync"
jq -e '.enrolled == true and .queue.depth == 0 and .upload.server_reachable == true' "$WORK/last.out" \
  >/dev/null || fail "status --json"
ok "status --json parses (enrolled, queue empty, server reachable)"

# 7. A sample without PowerShell: CPU from GetSystemTimes, extras unknown within their bound.
started=$(date +%s)
T=90 agent collect --print
[ "$rc" = 0 ] || fail "collect --print"
took=$(($(date +%s) - started))
# Wine reports no disks or network interfaces to sysinfo; those are checked on Linux only.
jq -e '.cpu.cores >= 1 and (.cpu.per_core_pct | length) == .cpu.cores
       and .cpu.usage_pct >= 0 and .cpu.usage_pct <= 100
       and .memory.total_bytes > 0 and .battery == null
       and .compliance.firewall == "unknown" and .compliance.secure_boot == "unknown"
       and (.compliance.volumes | all(.encrypted == "unknown"))' "$WORK/last.out" >/dev/null \
  || fail "collect --print: cpu (total and per core), memory, no battery, compliance facts unknown"
[ "$took" -lt 45 ] || fail "collect --print took ${took} s: the PowerShell extras are not bounded"
ok "collect --print in ${took} s: cpu $(jq -c '[.cpu.usage_pct, .cpu.per_core_pct]' "$WORK/last.out") from GetSystemTimes, battery and compliance facts (BitLocker, firewall, Secure Boot) unknown"
T=90 agent inventory --json
[ "$rc" = 0 ] || fail "inventory --json"
jq -e '.cpu_cores >= 1 and .serial_number == null' "$WORK/last.out" >/dev/null || fail "inventory --json"
ok "inventory --json: identity unknown without PowerShell"

# 8. install --dry-run prints the task as text; the file it would write stays UTF-16.
agent install --dry-run --interval 30m
[ "$rc" = 0 ] || fail "install --dry-run"
if LC_ALL=C grep -q -P '\x00' "$WORK/last.out"; then fail "install --dry-run prints raw UTF-16"; fi
grep -q '<BootTrigger>' "$WORK/last.out" && grep -q '<Interval>PT30M</Interval>' "$WORK/last.out" \
  || fail "install --dry-run shows the boot trigger and the interval"
[ ! -e "$STATE/rt-agent-task.xml" ] || fail "a dry run wrote the task file"
grep -q '<Command>[A-Z]:\\' "$WORK/last.out" || fail "the task's command is not an ordinary C:\\ path"
ok "install --dry-run: readable XML with the boot trigger and PT30M"
agent install --interval 30m
if [ "$rc" = 0 ]; then
  head -c 2 "$STATE/rt-agent-task.xml" | od -An -tx1 | grep -q 'ff fe' \
    || fail "the task file is not UTF-16LE with a byte order mark"
  ok "install: Wine's schtasks accepted the task; the XML file is UTF-16LE"
  INSTALLED=1
else
  say "note: install with Wine's schtasks failed (exit $rc): $(tail -n 1 "$WORK/last.err")"
  INSTALLED=0
fi

# 9. The console, as a Windows program, lists the device.
T=60 wine_run rt-tui.exe --server "$URL" --token "$ADMIN_TOKEN" devices --json
[ "$rc" = 0 ] || fail "rt-tui.exe devices --json"
jq -e 'map(select(.name == "wine-smoke")) | length == 1' "$WORK/last.out" >/dev/null \
  || jq -e '.devices | map(select(.name == "wine-smoke")) | length == 1' "$WORK/last.out" >/dev/null \
  || fail "rt-tui.exe devices --json does not list wine-smoke"
ok "rt-tui.exe devices --json lists the device"

# 10. The file credential store in another state directory.
ENROLL2=$(enroll_token 1)
agent --state-dir 'C:\ProgramData\RT-file-store' enroll --non-interactive --server "$URL" \
  --token "$ENROLL2" --name wine-file-store --credential-store file
[ "$rc" = 0 ] || fail "enroll with --credential-store file"
[ -s "$PROGRAMDATA/RT-file-store/device.token" ] || fail "no device.token with the file store"
T=90 agent --state-dir 'C:\ProgramData\RT-file-store' collect
[ "$rc" = 0 ] && grep -q 'uploaded 1 sample' "$WORK/last.err" || fail "collect with the file store"
ok "file credential store: enrolled and uploaded"

# 11. uninstall --purge removes the task, the credential and the state directory.
agent uninstall --purge
[ "$rc" = 0 ] || fail "uninstall --purge"
[ ! -e "$STATE" ] || fail "uninstall --purge left $STATE"
agent status
[ "$rc" = 3 ] || fail "status after purge: exit $rc, expected 3 (not enrolled)"
ok "uninstall --purge: state directory and credential removed (task installed: $INSTALLED)"

# 12. HTTPS with a private CA: refused until the CA is in the machine's Trusted Root store.
say "making a private CA and a server certificate for 127.0.0.1"
(
  cd "$WORK"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=rt-wine-smoke CA" \
    -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext.cnf -out server.pem 2>/dev/null
) || fail "openssl could not make the certificates"
ENROLL3=$(enroll_token 1)
stop_server
HTTPS_URL="https://127.0.0.1:$PORT"
start_tls_server() {
  "$LINUX_BIN/rt-server" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
    --tls-cert "$WORK/server.pem" --tls-key "$WORK/server.key" >>"$WORK/server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    curl -fsS --cacert "$WORK/ca.pem" -o /dev/null "$HTTPS_URL/readyz" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || fail "rt-server with TLS exited"
    sleep 0.5
  done
  fail "rt-server with TLS not ready after 60 s"
}
start_tls_server
TLS_STATE='C:\ProgramData\RT-https'
# Wine's chain engine traces each chain's trust status (WINEDEBUG=+chain). The server's chain is
# the one with the revocation bits (0x01000040, offline / unknown): with the CA unknown it also
# has 0x10000 (partial chain) or 0x20 (untrusted root); with the CA trusted it has only those.
server_chain_status() { grep -o 'error status: 010[0-9a-f]*' "$WORK/last.err" | awk '{ s = $3 } END { print s }'; }
WINEDEBUG=+chain agent --state-dir "$TLS_STATE" enroll --non-interactive --server "$HTTPS_URL" \
  --token "$ENROLL3" --name wine-https --credential-store file
[ "$rc" != 0 ] || fail "enroll succeeded against a server whose CA Windows does not trust"
grep -q 'invalid peer certificate' "$WORK/last.err" || fail "the refusal does not name the certificate"
status=$(server_chain_status)
[ -n "$status" ] && [ "$status" != 01000040 ] || fail "the server's chain is not reported as untrusted (status ${status:-none})"
[ ! -e "$PROGRAMDATA/RT-https/config.json" ] || fail "a refused enroll left a configuration"
ok "HTTPS: enroll refused while the private CA is not trusted (chain status 0x$status)"
wine_run trust-ca.exe "$(winpath "$WORK/ca.pem")"
[ "$rc" = 0 ] || fail "cannot add the CA to the machine's Trusted Root store"
WINEDEBUG=+chain agent --state-dir "$TLS_STATE" enroll --non-interactive --server "$HTTPS_URL" \
  --token "$ENROLL3" --name wine-https --credential-store file
if [ "$rc" = 0 ]; then
  T=90 agent --state-dir "$TLS_STATE" collect
  [ "$rc" = 0 ] && grep -q 'uploaded 1 sample' "$WORK/last.err" || fail "collect over HTTPS"
  ok "HTTPS: with the CA trusted, enrolled and uploaded"
  HTTPS_RESULT=verified
else
  # Wine 8's CertVerifyCertificateChainPolicy answers CERT_E_REVOCATION_FAILURE (0x800B010E) for
  # a chain whose revocation status is unknown (0x01000040: offline revocation, status unknown)
  # even with CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS, which Windows honours. The chain
  # itself must be trusted now; any other refusal is a failure.
  grep -q -- '-2146762482' "$WORK/last.err" || fail "enroll over HTTPS with the CA trusted"
  status=$(server_chain_status)
  [ "$status" = 01000040 ] || fail "with the CA in the Trusted Root store, the chain is still not trusted (status ${status:-none})"
  [ ! -e "$PROGRAMDATA/RT-https/config.json" ] || fail "a refused enroll left a configuration"
  ok "HTTPS: with the CA in the Trusted Root store the chain is trusted (status 0x01000040, no untrusted root)"
  say "note: Wine 8 then refuses the connection for unknown revocation status (CERT_E_REVOCATION_FAILURE), which Windows ignores with the flags the verifier passes; upload over HTTPS is not verifiable under Wine"
  HTTPS_RESULT="chain trusted, connection refused by Wine's revocation check"
fi

# 13. HTTPS with --ca-file: the agent trusts exactly that CA (rustls's own verifier, not the
# Windows chain engine, so Wine's revocation check is not involved): enroll, upload, an outage,
# sync; the Linux console and rt-tui.exe reach the same server with --ca-file too.
CA_WIN=$(winpath "$WORK/ca.pem")
tuis() { "$LINUX_BIN/rt-tui" --server "$HTTPS_URL" --token "$ADMIN_TOKEN" --ca-file "$WORK/ca.pem" "$@"; }
ENROLL4=$(tuis enroll-token create --expires 1h --uses 1 2>/dev/null | tail -n 1 | tr -d '[:space:]')
[ -n "$ENROLL4" ] || fail "the Linux console cannot create an enrollment token over HTTPS with --ca-file"
CA_STATE='C:\ProgramData\RT-cafile'
agent --state-dir "$CA_STATE" enroll --non-interactive --server "$HTTPS_URL" --ca-file "$CA_WIN" \
  --token "$ENROLL4" --name wine-cafile --credential-store file
[ "$rc" = 0 ] || fail "enroll over HTTPS with --ca-file"
jq -e '.ca_file | test("ca.pem$")' "$PROGRAMDATA/RT-cafile/config.json" >/dev/null \
  || fail "the enrollment does not keep the CA file"
for i in 1 2; do
  T=90 agent --state-dir "$CA_STATE" collect
  [ "$rc" = 0 ] && grep -q 'uploaded 1 sample' "$WORK/last.err" || fail "collect $i over HTTPS with --ca-file"
done
stop_server
T=90 agent --state-dir "$CA_STATE" collect
[ "$rc" = 0 ] || fail "collect with the HTTPS server down"
start_tls_server
agent --state-dir "$CA_STATE" sync
[ "$rc" = 0 ] || fail "sync over HTTPS after the outage"
CA_DEVICE=$(tuis devices --json | jq -r '(if type == "array" then . else .devices end)[] | select(.name == "wine-cafile") | .id')
[ -n "$CA_DEVICE" ] || fail "the server does not list the device wine-cafile"
STORED=$(tuis export --format ndjson --what samples --device "$CA_DEVICE" --since 1d | grep -c '"seq"' || true)
[ "$STORED" = 3 ] || fail "the server stores $STORED samples of wine-cafile, expected exactly 3"
ok "HTTPS with --ca-file: enrolled, 2 uploaded, 1 queued through an outage and synced: exactly 3 stored"
T=60 wine_run rt-tui.exe --server "$HTTPS_URL" --token "$ADMIN_TOKEN" --ca-file "$CA_WIN" devices --json
[ "$rc" = 0 ] || fail "rt-tui.exe --ca-file devices --json over HTTPS"
jq -e '(if type == "array" then . else .devices end) | map(select(.name == "wine-cafile")) | length == 1' \
  "$WORK/last.out" >/dev/null || fail "rt-tui.exe over HTTPS does not list wine-cafile"
ok "rt-tui.exe over HTTPS with --ca-file lists the device"

stop_server
say "all $passed checks passed (HTTPS with the private CA in the Windows store: $HTTPS_RESULT; with --ca-file: verified)"
