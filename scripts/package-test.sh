#!/usr/bin/env bash
# The Debian packages tested on this machine for real: builds them from the existing debug
# binaries (scripts/package.sh --profile debug --no-build), installs them with dpkg -i, checks
# files, owners, modes, the system user, the unit (systemd-analyze verify), completions and
# `man rt-tui`, runs each --version, starts rt-server as rt-server on /var/lib/rt-server and asks
# /livez, then removes and purges them and checks that nothing is left.
#
#   CI=true scripts/package-test.sh      or      scripts/package-test.sh --yes
#
# It installs packages and creates (then deletes) the user rt-server, so it runs only as root and
# only when told to; it refuses if any of it already exists here. Bounded: every step has a
# timeout; .ci/run also bounds the whole.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

yes=0
for arg in "$@"; do
  case $arg in
    --yes) yes=1 ;;
    -h | --help) sed -n '8p' "$0" | sed 's/^# *//'; exit 0 ;;
    *) echo "package-test: unknown option $arg (usage: scripts/package-test.sh --yes)" >&2; exit 2 ;;
  esac
done
if [ "$(id -u)" != 0 ]; then
  echo "package-test: run it as root: it installs the packages and creates the user rt-server" >&2
  exit 2
fi
if [ "$yes" != 1 ] && [ "${CI:-}" != true ]; then
  echo "package-test: this installs and purges rt-server, rt-agent and rt-tui on this machine;" >&2
  echo "  run it with --yes (or CI=true) to go ahead" >&2
  exit 2
fi

pkgs=(rt-server rt-agent rt-tui)
# What the purge deletes must not be someone else's.
for p in "${pkgs[@]}"; do
  if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qv '^not-installed$'; then
    echo "package-test: the package $p is already on this machine; remove it first (dpkg --purge $p)" >&2
    exit 2
  fi
  if [ -e "/usr/bin/$p" ]; then
    echo "package-test: /usr/bin/$p already exists (not from a package); move it away first" >&2
    exit 2
  fi
done
if getent passwd rt-server >/dev/null || getent group rt-server >/dev/null ||
  [ -e /var/lib/rt-server ] || [ -e /etc/rt-server ]; then
  echo "package-test: the user rt-server, /var/lib/rt-server or /etc/rt-server exists already;" >&2
  echo "  the test would delete it, so it stops here" >&2
  exit 2
fi

need=()
command -v man >/dev/null 2>&1 || need+=(man-db)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test tools: ${need[*]}" >&2
  timeout 300 apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work=$(mktemp -d)
server_pid=
installed=0
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$installed" = 1 ]; then
    timeout 120 dpkg --purge "${pkgs[@]}" >/dev/null 2>&1 || true
  fi
  # Refused above if any of these existed before, so they are ours.
  if getent passwd rt-server >/dev/null; then userdel rt-server 2>/dev/null || true; fi
  if getent group rt-server >/dev/null; then groupdel rt-server 2>/dev/null || true; fi
  rm -rf /var/lib/rt-server /etc/rt-server "$work"
  if [ "$rc" = 0 ]; then
    echo "package-test: PASS: ${pkgs[*]} built, installed, checked and purged in $((SECONDS - started)) s"
  else
    echo "package-test: FAIL after $((SECONDS - started)) s (the machine was cleaned up)"
  fi
}
trap cleanup EXIT
fail() {
  echo "package-test: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }

# expect_file PATH OWNER:GROUP MODE
expect_file() {
  local got
  [ -e "$1" ] || fail "$1 is missing$(excluded_hint "$1")"
  got=$(stat -c '%U:%G %a' "$1")
  [ "$got" = "$2 $3" ] || fail "$1 is $got, expected $2 $3"
}
# A Docker-style /etc/dpkg/dpkg.cfg.d/ may tell dpkg to skip manual pages or docs.
excluded_hint() {
  if grep -rqs "path-exclude.*${1%/*}" /etc/dpkg/dpkg.cfg.d/; then
    echo " (dpkg is told to skip it: path-exclude in /etc/dpkg/dpkg.cfg.d/)"
  fi
}

echo "== build the packages from the debug binaries"
timeout 300 bash scripts/package.sh --profile debug --no-build --out "$work/debs" >"$work/debs.list"
mapfile -t debs <"$work/debs.list"
[ ${#debs[@]} = 3 ] || fail "package.sh built ${#debs[@]} packages, expected 3"
version=$(dpkg-deb -f "${debs[0]}" Version)
version=${version%-*}
ok "built $(basename -a "${debs[@]}" | tr '\n' ' ')"

echo "== dpkg -i"
installed=1
timeout 180 dpkg -i "${debs[@]}" >"$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log" >&2; fail "dpkg -i failed"; }
for p in "${pkgs[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p")" = installed ] || fail "$p is not installed"
  changed=$(timeout 60 dpkg --verify "$p") || fail "dpkg --verify $p failed"
  [ -z "$changed" ] || fail "dpkg --verify $p: installed files differ from the package: $changed"
done
ok "installed ${pkgs[*]} ($version)"
dpkg-query -L "${pkgs[@]}" | sort -u >"$work/files"

echo "== files, owners, modes"
for p in "${pkgs[@]}"; do
  expect_file "/usr/bin/$p" root:root 755
  expect_file "/usr/share/bash-completion/completions/$p" root:root 644
  expect_file "/usr/share/zsh/vendor-completions/_$p" root:root 644
  expect_file "/usr/share/fish/vendor_completions.d/$p.fish" root:root 644
  expect_file "/usr/share/man/man1/$p.1.gz" root:root 644
  expect_file "/usr/share/doc/$p/copyright" root:root 644
done
expect_file /lib/systemd/system/rt-server.service root:root 644
expect_file /etc/rt-server/rt-server.toml root:root 644
dpkg-query -W -f='${Conffiles}' rt-server | grep -q '/etc/rt-server/rt-server.toml' ||
  fail "/etc/rt-server/rt-server.toml is not a conffile"
ok "binaries 0755, completions, manual pages, unit and conffile 0644, all root:root"

IFS=: read -r _ _ uid _ _ home shell < <(getent passwd rt-server) || fail "no user rt-server"
[ "$uid" -lt 1000 ] || fail "rt-server has uid $uid, not a system uid"
[ "$home" = /var/lib/rt-server ] || fail "rt-server's home is $home"
[ "$shell" = /usr/sbin/nologin ] || fail "rt-server's shell is $shell"
getent group rt-server >/dev/null || fail "no group rt-server"
expect_file /var/lib/rt-server rt-server:rt-server 700
ok "system user rt-server (uid $uid, nologin), /var/lib/rt-server rt-server:rt-server 0700"

echo "== the unit"
verify=$(timeout 60 systemd-analyze verify /lib/systemd/system/rt-server.service 2>&1) ||
  fail "systemd-analyze verify failed: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify is not clean: $verify"
if [ -d /run/systemd/system ]; then
  ok "unit verifies clean; systemd is running, so the package started it"
else
  [ -L /etc/systemd/system/multi-user.target.wants/rt-server.service ] ||
    fail "the unit is not enabled (no multi-user.target.wants link)"
  ok "unit verifies clean; enabled for the next boot (systemd is not running here, nothing started)"
fi

echo "== commands, completions, manual pages"
for p in "${pkgs[@]}"; do
  got=$(cd / && timeout 10 "$p" --version) || fail "$p --version failed"
  [ "$got" = "$p $version" ] || fail "$p --version says '$got', expected '$p $version'"
  timeout 10 bash -c ". /usr/share/bash-completion/completions/$p && complete -p $p" >/dev/null ||
    fail "the bash completion for $p does not load"
  [ "$(timeout 10 man -w "$p")" = "/usr/share/man/man1/$p.1.gz" ] || fail "man -w $p does not find its page"
done
timeout 20 man -P cat rt-tui 2>/dev/null | grep -q 'ResourceTracker console' || fail "man rt-tui does not render"
ok "--version of all three, bash completions load, man -w finds the pages, man rt-tui renders"

echo "== rt-server as rt-server on /var/lib/rt-server"
# The unit's ExecStart and environment, on a free loopback port; setpriv execs, so the pid is the
# server's.
RT_DATA_DIR=/var/lib/rt-server setpriv --reuid=rt-server --regid=rt-server --init-groups -- \
  /usr/bin/rt-server serve --config /etc/rt-server/rt-server.toml --listen 127.0.0.1:0 \
  >"$work/server.log" 2>&1 &
server_pid=$!
url=
for _ in $(seq 1 300); do
  url=$(sed -n 's/^rt-server listening on \(http:[^ ]*\)$/\1/p' "$work/server.log")
  [ -z "$url" ] || break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; fail "rt-server exited at start"; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log" >&2; fail "rt-server did not listen within 30 s"; }
port=${url##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
status=$(timeout 10 head -1 <&3 | tr -d '\r')
exec 3<&-
[ "$status" = "HTTP/1.1 200 OK" ] || fail "GET /livez answered '$status'"
expect_file /var/lib/rt-server/rt.db rt-server:rt-server 600
kill -TERM "$server_pid"
for _ in $(seq 1 300); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$server_pid" 2>/dev/null && fail "rt-server did not stop within 30 s of SIGTERM"
wait "$server_pid" || fail "rt-server exited with $? on SIGTERM"
server_pid=
# The first admin, as docs/operations.md tells the operator to create it.
echo 'package-test-pw' | timeout 60 setpriv --reuid=rt-server --regid=rt-server --init-groups -- \
  rt-server user add admin --role admin --password-stdin --data-dir /var/lib/rt-server >"$work/user-add.log" 2>&1 ||
  { cat "$work/user-add.log" >&2; fail "rt-server user add as rt-server failed"; }
ok "GET /livez 200 on $url, rt.db rt-server 0600, clean stop on SIGTERM, first admin added"

echo "== dpkg -i again (an upgrade in place) keeps the data"
timeout 180 dpkg -i "${debs[@]}" >"$work/dpkg-i2.log" 2>&1 || { cat "$work/dpkg-i2.log" >&2; fail "dpkg -i over the installed packages failed"; }
expect_file /var/lib/rt-server rt-server:rt-server 700
expect_file /var/lib/rt-server/rt.db rt-server:rt-server 600
timeout 60 setpriv --reuid=rt-server --regid=rt-server --init-groups -- \
  rt-server user list --data-dir /var/lib/rt-server 2>&1 | grep -q '^1 .*admin' ||
  fail "the admin account is gone after reinstalling"
ok "reinstalled over itself: the user, /var/lib/rt-server and its database kept"

echo "== dpkg -r keeps the data, dpkg --purge removes everything"
timeout 120 dpkg -r "${pkgs[@]}" >"$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log" >&2; fail "dpkg -r failed"; }
[ -f /var/lib/rt-server/rt.db ] || fail "dpkg -r deleted /var/lib/rt-server/rt.db"
getent passwd rt-server >/dev/null || fail "dpkg -r deleted the user rt-server"
[ -f /etc/rt-server/rt-server.toml ] || fail "dpkg -r deleted the conffile"
for p in "${pkgs[@]}"; do [ ! -e "/usr/bin/$p" ] || fail "/usr/bin/$p is still there after dpkg -r"; done
timeout 120 dpkg --purge "${pkgs[@]}" >"$work/dpkg-purge.log" 2>&1 ||
  { cat "$work/dpkg-purge.log" >&2; fail "dpkg --purge failed"; }
installed=0
for p in "${pkgs[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || echo not-installed)" = not-installed ] ||
    fail "$p is still known to dpkg after the purge"
done
left=()
while read -r f; do
  [ "$f" != /. ] || continue
  # Directories other packages own (/usr/bin, /lib/systemd/system, ...) stay; the rest goes.
  if [ -d "$f" ] && dpkg-query -S "$f" >/dev/null 2>&1; then continue; fi
  if [ -e "$f" ] || [ -L "$f" ]; then left+=("$f"); fi
done <"$work/files"
for f in /var/lib/rt-server /etc/rt-server /etc/systemd/system/rt-server.service \
  /etc/systemd/system/multi-user.target.wants/rt-server.service \
  /var/lib/systemd/deb-systemd-helper-enabled/rt-server.service.dsh-also \
  /var/lib/systemd/deb-systemd-helper-masked/rt-server.service; do
  if [ -e "$f" ] || [ -L "$f" ]; then left+=("$f"); fi
done
[ ${#left[@]} = 0 ] || fail "left after the purge: ${left[*]}"
getent passwd rt-server >/dev/null && fail "the user rt-server is left after the purge"
getent group rt-server >/dev/null && fail "the group rt-server is left after the purge"
ok "dpkg -r kept /var/lib/rt-server, the user and the conffile; dpkg --purge left no file, user or group"
