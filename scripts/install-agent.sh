#!/bin/sh
# Installs the ResourceTracker agent from your rt-server and starts enrollment.
#
#   curl -fsSL https://rt.example.com/downloads/install-agent.sh | sh -s -- https://rt.example.com
#   sh install-agent.sh https://rt.example.com                      # then the wizard
#   sh install-agent.sh https://rt.example.com --non-interactive --token T --install auto
#
# Downloads rt-agent-<os>-<arch> and its .sha256 from <server>/downloads/, verifies the SHA-256,
# installs the binary (root: /usr/local/bin, others: ~/.local/bin) and runs `rt-agent enroll`
# with the remaining arguments (the server URL is passed on as --server). With a private CA,
# `--ca-file FILE` among those arguments (or RT_CA_FILE) is also what the downloads trust:
#   curl --cacert ca.pem -fsSL https://rt.example.com/downloads/install-agent.sh | sh -s -- https://rt.example.com --ca-file ca.pem
#
# Environment: RT_INSTALL_PREFIX (default /usr/local for root, $HOME/.local otherwise),
# RT_INSTALL_BIN_DIR (default $RT_INSTALL_PREFIX/bin), RT_AGENT_PLATFORM (e.g. linux-x86_64, to
# override detection), RT_INSTALL_NO_ENROLL=1 (install only).
set -eu

die() { echo "install-agent: $*" >&2; exit 1; }

[ $# -ge 1 ] || die "usage: install-agent.sh SERVER_URL [rt-agent enroll options...]"
server=${1%/}
shift
case "$server" in
  http://*|https://*) ;;
  *) die "the server URL must start with http:// or https:// (got '$server')" ;;
esac

if [ -n "${RT_AGENT_PLATFORM:-}" ]; then
  platform=$RT_AGENT_PLATFORM
else
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=macos ;;
    *) die "unsupported OS $(uname -s); on Windows use install-agent.ps1" ;;
  esac
  case "$(uname -m)" in
    x86_64|amd64) arch=x86_64 ;;
    aarch64|arm64) arch=aarch64 ;;
    *) die "unsupported CPU architecture $(uname -m)" ;;
  esac
  platform="$os-$arch"
fi
asset="rt-agent-$platform"

if [ "$(id -u)" = 0 ]; then
  prefix=${RT_INSTALL_PREFIX:-/usr/local}
else
  prefix=${RT_INSTALL_PREFIX:-$HOME/.local}
fi
bin_dir=${RT_INSTALL_BIN_DIR:-$prefix/bin}

# The CA the agent will trust (--ca-file FILE / --ca-file=FILE / RT_CA_FILE) is the one the
# downloads are checked with, too.
ca_file=${RT_CA_FILE:-}
prev=
for a in "$@"; do
  case "$a" in --ca-file=*) ca_file=${a#--ca-file=} ;; esac
  [ "$prev" = --ca-file ] && ca_file=$a
  prev=$a
done
[ -z "$ca_file" ] || [ -r "$ca_file" ] || die "cannot read the CA file '$ca_file' (--ca-file)"

fetch() { # url file
  if command -v curl >/dev/null 2>&1; then
    if [ -n "$ca_file" ]; then
      curl -fsSL --proto '=http,https' --cacert "$ca_file" -o "$2" "$1"
    else
      curl -fsSL --proto '=http,https' -o "$2" "$1"
    fi
  elif command -v wget >/dev/null 2>&1; then
    if [ -n "$ca_file" ]; then
      wget -q --ca-certificate="$ca_file" -O "$2" "$1"
    else
      wget -q -O "$2" "$1"
    fi
  else
    die "neither curl nor wget is installed"
  fi
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    die "neither sha256sum nor shasum is installed; cannot verify the download"
  fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rt-agent-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "Downloading $asset from $server/downloads/ ..."
fetch "$server/downloads/$asset" "$tmp/rt-agent" || die "cannot download $server/downloads/$asset (is this platform published on the server?)"
fetch "$server/downloads/$asset.sha256" "$tmp/rt-agent.sha256" || die "cannot download $server/downloads/$asset.sha256"

expected=$(cut -d' ' -f1 < "$tmp/rt-agent.sha256" | tr 'A-F' 'a-f' | head -n 1)
actual=$(sha256_of "$tmp/rt-agent")
if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
  die "checksum mismatch for $asset: expected '$expected', got '$actual'; nothing was installed"
fi
echo "Checksum verified (sha256 $actual)."

mkdir -p "$bin_dir"
chmod 0755 "$tmp/rt-agent"
# Install next to the target and rename: a running agent is never left with a half-copied file.
cp "$tmp/rt-agent" "$bin_dir/.rt-agent.new"
mv -f "$bin_dir/.rt-agent.new" "$bin_dir/rt-agent"
echo "Installed $bin_dir/rt-agent ($("$bin_dir/rt-agent" --version))."

if [ "${RT_INSTALL_NO_ENROLL:-}" = 1 ]; then
  echo "Enroll later with: $bin_dir/rt-agent enroll --server $server"
  exit 0
fi

case " $* " in
  *" --server "*|*" --server="*) ;;
  *) set -- --server "$server" "$@" ;;
esac
case " $* " in
  *" --non-interactive "*)
    exec "$bin_dir/rt-agent" enroll "$@" ;;
esac
# The wizard needs a terminal; under `curl | sh` stdin is the script, so use the controlling one.
if [ -t 0 ]; then
  exec "$bin_dir/rt-agent" enroll "$@"
elif [ -r /dev/tty ] && (: </dev/tty) 2>/dev/null; then
  exec "$bin_dir/rt-agent" enroll "$@" </dev/tty
else
  echo "No terminal for the enrollment wizard. Enroll with, for example:" >&2
  echo "  $bin_dir/rt-agent enroll --non-interactive --server $server --token TOKEN --install auto" >&2
  exit 2
fi
