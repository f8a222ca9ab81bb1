#!/usr/bin/env bash
# ResourceTracker quickstart: one command from a fresh clone to the console showing this machine
# and a simulated fleet.
#
#   scripts/quickstart.sh            build (release), start rt-server on 127.0.0.1, create an admin,
#                                    enroll this machine, simulate a fleet, open the console
#   scripts/quickstart.sh --no-tui   the same without opening the console (scripts, CI)
#   scripts/quickstart.sh --stop     stop the server (and the live simulator) started by this script
#   scripts/quickstart.sh --reset    stop the server, delete ./rt-data, start over
#
# Environment:
#   RT_QUICKSTART_PORT  port on 127.0.0.1 (default 8080)
#   RT_ADMIN_PASSWORD   password for the `admin` account (default: generated, printed once and
#                       saved in ./rt-data/admin-password, mode 0600)
#   RT_SIM_DEVICES, RT_SIM_HISTORY, RT_SIM_INTERVAL, RT_SIM_SEED
#                       simulated fleet (rt-sim; default 50 devices, 7d of history, one sample
#                       every 5m, seed 42)
#   CARGO_TARGET_DIR    honoured: the binaries are built and taken from there
#
# Re-running reuses what exists: a running server, the saved admin password, the enrolled agent,
# the simulated fleet.
set -euo pipefail
cd "$(dirname "$0")/.."
# Settings of your own shell must not redirect what this script sets up.
unset RT_TOKEN RT_SERVER_URL RT_ENROLL_TOKEN RT_AGENT_STATE_DIR RT_DATA_DIR RT_LISTEN RT_DATABASE_URL RT_CONFIG
ROOT=$(pwd)

PORT=${RT_QUICKSTART_PORT:-8080}
DATA="$ROOT/rt-data"
URL="http://127.0.0.1:$PORT"
# Where cargo puts the binaries: CARGO_TARGET_DIR when set (relative to the repository, as cargo
# reads it), else ./target.
TARGET_DIR=${CARGO_TARGET_DIR:-target}
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
BIN="$TARGET_DIR/release"
DEVICES=${RT_SIM_DEVICES:-50}
HISTORY=${RT_SIM_HISTORY:-7d}
INTERVAL=${RT_SIM_INTERVAL:-5m}
SEED=${RT_SIM_SEED:-42}
TUI=1
ACTION=run

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

for arg in "$@"; do
  case "$arg" in
    --no-tui) TUI=0 ;;
    --stop) ACTION=stop ;;
    --reset) ACTION=reset ;;
    -h|--help) usage; exit 0 ;;
    *) echo "quickstart: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

if [ -t 2 ] && [ -z "${NO_COLOR:-}" ]; then
  say() { printf '\033[1mquickstart:\033[0m %s\n' "$*" >&2; }
else
  say() { printf 'quickstart: %s\n' "$*" >&2; }
fi
die() { printf 'quickstart: error: %s\n' "$*" >&2; exit 1; }

# The pid of a process this script started ($1: server or simulate; $2: its program name), if
# it is still running.
pid_of() {
  local pid
  [ -f "$DATA/$1.pid" ] || return 1
  pid=$(cat "$DATA/$1.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # Never signal a recycled pid that is not ours.
  [ "$(cat "/proc/$pid/comm" 2>/dev/null || echo "$2")" = "$2" ] || return 1
  echo "$pid"
}
server_pid() { pid_of server rt-server; }

stop_one() { # $1 server|simulate, $2 program name
  local pid
  if pid=$(pid_of "$1" "$2"); then
    say "stopping $2 (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && die "$2 (pid $pid) did not stop; kill it by hand"
    rm -f "$DATA/$1.pid"
    return 0
  fi
  return 1
}

stop_server() {
  stop_one simulate rt-sim || true
  stop_one server rt-server || say "no rt-server started by quickstart is running"
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

case "$ACTION" in
  stop) stop_server; exit 0 ;;
  reset) stop_server; say "deleting $DATA"; rm -rf "$DATA" ;;
esac

command -v cargo >/dev/null 2>&1 || die "cargo not found: install the Rust toolchain (https://rustup.rs) and retry"
command -v curl >/dev/null 2>&1 || die "curl not found: install it (e.g. sudo apt-get install curl) and retry"

# 1. Build.
# Every binary of the workspace at once: the same feature set as `scripts/test.sh` and
# `scripts/bench.sh` (cargo unifies features over what one command selects, so building
# packages one by one would compile the shared crates again with other features).
say "building rt-server, rt-agent, rt-tui and rt-sim in release mode (the first build takes a few minutes)"
cargo build --release --workspace --bins
for b in rt-server rt-agent rt-tui rt-sim; do [ -x "$BIN/$b" ] || die "missing $BIN/$b after the build"; done

umask 077
mkdir -p "$DATA"

# 2. Server.
if pid=$(server_pid); then
  say "reusing rt-server (pid $pid) on $URL"
else
  if port_in_use; then
    die "port $PORT on 127.0.0.1 is already in use by another program; choose another one, e.g. RT_QUICKSTART_PORT=8090 $0"
  fi
  say "starting rt-server on $URL (data in $DATA, log in $DATA/server.log)"
  setsid "$BIN/rt-server" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA" \
    >>"$DATA/server.log" 2>&1 </dev/null &
  echo $! >"$DATA/server.pid"
fi
for i in $(seq 1 60); do
  curl -fsS -o /dev/null "$URL/readyz" 2>/dev/null && break
  if ! server_pid >/dev/null; then
    tail -n 20 "$DATA/server.log" >&2 || true
    die "rt-server exited; its log is above and in $DATA/server.log"
  fi
  [ "$i" = 60 ] && die "rt-server is not ready after 30 s; see $DATA/server.log"
  sleep 0.5
done

# 3. Admin account.
PWFILE="$DATA/admin-password"
if [ -s "$PWFILE" ]; then
  ADMIN_PW=$(cat "$PWFILE")
  say "reusing the admin account (password in $PWFILE)"
else
  GENERATED=0
  if [ -n "${RT_ADMIN_PASSWORD:-}" ]; then
    ADMIN_PW=$RT_ADMIN_PASSWORD
  else
    ADMIN_PW=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
    GENERATED=1
  fi
  printf '%s\n' "$ADMIN_PW" | "$BIN/rt-server" user add admin --role admin --password-stdin --data-dir "$DATA" >/dev/null \
    || die "cannot create the admin account (if it exists already, set RT_ADMIN_PASSWORD to its password, or run: $BIN/rt-server user passwd admin --data-dir $DATA)"
  printf '%s\n' "$ADMIN_PW" >"$PWFILE"
  chmod 600 "$PWFILE"
  if [ "$GENERATED" = 1 ]; then
    say "created user 'admin' with the generated password: $ADMIN_PW"
    say "(shown once; also saved in $PWFILE, readable only by you)"
  else
    say "created user 'admin' with the password from RT_ADMIN_PASSWORD (saved in $PWFILE)"
  fi
fi

# 4. Console login (saved under ./rt-data/console, not in your own rt-tui configuration).
export RT_TUI_CONFIG_DIR="$DATA/console"
printf '%s\n' "$ADMIN_PW" | "$BIN/rt-tui" --server "$URL" login --username admin --password-stdin >/dev/null \
  || die "rt-tui login failed; see the message above"

# A session token for this script (enrollment token, lifecycle changes by the simulator).
json_escape() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g'; }
ADMIN_TOKEN=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$(json_escape "$ADMIN_PW")\"}" "$URL/api/v1/auth/login" \
  | sed -n 's/.*"token"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p') || true
[ -n "$ADMIN_TOKEN" ] || die "cannot sign in as admin at $URL/api/v1/auth/login (wrong saved password? try --reset)"

# One enrollment token for this run (made on first use), for the agent and the simulator.
ENROLL_TOKEN=""
make_enroll_token() {
  if [ -z "$ENROLL_TOKEN" ]; then
    ENROLL_TOKEN=$("$BIN/rt-tui" --server "$URL" enroll-token create --expires 24h --uses $((DEVICES + 10)) --note quickstart) \
      || die "cannot create an enrollment token"
    ENROLL_TOKEN=$(printf '%s' "$ENROLL_TOKEN" | tail -n 1 | tr -d '[:space:]')
  fi
}

# 5. This machine's real agent.
AGENT=("$BIN/rt-agent" --state-dir "$DATA/agent")
if [ -f "$DATA/.agent-enrolled" ]; then
  say "this machine is already enrolled (agent state in $DATA/agent)"
else
  say "enrolling this machine ($(hostname)) with its real agent"
  make_enroll_token
  RT_ENROLL_TOKEN="$ENROLL_TOKEN" "${AGENT[@]}" enroll --non-interactive --server "$URL" --install none --credential-store file
  touch "$DATA/.agent-enrolled"
fi
say "collecting and delivering a real sample from this machine"
"${AGENT[@]}" collect
"${AGENT[@]}" sync

# 6. Simulated fleet: back-filled history, then live samples in the background (so the fleet
#    stays online while you look, and laptops go offline at their local night).
if [ -f "$DATA/.fleet-simulated" ]; then
  if pid=$(pid_of simulate rt-sim); then
    say "the simulated fleet exists and keeps reporting (pid $pid, log $DATA/simulate.log)"
  else
    say "the simulated fleet exists (history only: it shows offline once its last report is 15 minutes old; --reset starts over)"
  fi
else
  say "simulating $DEVICES devices with $HISTORY of history, one sample every $INTERVAL (seed $SEED)"
  make_enroll_token
  rm -f "$DATA/simulate-summary.json"
  setsid env RT_ENROLL_TOKEN="$ENROLL_TOKEN" RT_TOKEN="$ADMIN_TOKEN" "$BIN/rt-sim" --devices "$DEVICES" \
    --history "$HISTORY" --interval "$INTERVAL" --seed "$SEED" --server "$URL" --live \
    --summary-json "$DATA/simulate-summary.json" >>"$DATA/simulate.log" 2>&1 </dev/null &
  echo $! >"$DATA/simulate.pid"
  started=$(date +%s)
  until [ -s "$DATA/simulate-summary.json" ]; do
    if ! pid_of simulate rt-sim >/dev/null; then
      tail -n 20 "$DATA/simulate.log" >&2 || true
      die "the simulator stopped early; its log is above and in $DATA/simulate.log"
    fi
    sleep 1
    if [ $(( ($(date +%s) - started) % 10 )) = 0 ]; then
      say "$(grep '^rt-sim:' "$DATA/simulate.log" | tail -n 1 || echo "simulating ($(( $(date +%s) - started )) s)")"
    fi
  done
  grep '^rt-sim:' "$DATA/simulate.log" | grep -v 'devices, .* samples/s$' | grep -v '^rt-sim: live' | tail -n 2 >&2 || true
  touch "$DATA/.fleet-simulated"
fi

cat >&2 <<EOF

ResourceTracker is running on $URL (server log: $DATA/server.log).
  console:        RT_TUI_CONFIG_DIR=$DATA/console $BIN/rt-tui
  export samples: RT_TUI_CONFIG_DIR=$DATA/console $BIN/rt-tui export --format csv --since 24h
  admin password: $PWFILE
  simulator log:  $DATA/simulate.log (live samples until --stop)
  stop server:    scripts/quickstart.sh --stop   (stops the simulator too)
  start over:     scripts/quickstart.sh --reset

EOF

# 7. The console.
if [ "$TUI" = 1 ]; then
  if [ -t 0 ] && [ -t 1 ]; then
    exec "$BIN/rt-tui" --server "$URL"
  else
    say "not on a terminal: skipping the console (run it with the command above)"
  fi
fi
