#!/usr/bin/env bash
# Windows check: cross-compiles rt-agent and rt-tui for x86_64-pc-windows-gnu, lints them for
# that target (clippy -D warnings) and runs the Wine smoke suite (scripts/windows/wine-smoke.sh)
# against a real Linux rt-server on 127.0.0.1. Idempotent: installs the Debian packages it needs
# on first use (as root; otherwise it names them), then reuses them and its build directory.
#
#   scripts/windows-check.sh              install, build, clippy, Wine suite
#   scripts/windows-check.sh --no-wine    install, build, clippy only
#
# How (docs/agent.md, "Windows"): Debian's rustc-web/cargo-web (Rust 1.96) build the standard
# library for the target from rust-web-src (`-Z build-std`, hence RUSTC_BOOTSTRAP=1); the rustup
# toolchain stays first on PATH for everything else, so Debian's tools are called from /usr/bin
# for these steps only. Wine 8 lacks bcryptprimitives.dll!ProcessPrng, which Rust's std imports:
# a shim DLL (scripts/windows/processprng.c) goes next to the .exe files.
#
# Environment:
#   CARGO_TARGET_DIR              Windows artefacts go to "$CARGO_TARGET_DIR/windows"
#                                 (default target/windows); the Linux binaries the suite needs
#                                 (rt-server, rt-tui) come from "$CARGO_TARGET_DIR/debug".
#   RT_WINDOWS_BUILD_TIMEOUT      seconds for each cargo step (default 1500)
#   RT_WINDOWS_SUITE_TIMEOUT      seconds for the Wine suite (default 600)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

WINE=1
for arg in "$@"; do
  case "$arg" in
    --no-wine) WINE=0 ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "windows-check: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

TRIPLE=x86_64-pc-windows-gnu
TARGET_BASE=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET_BASE" in /*) ;; *) TARGET_BASE="$ROOT/$TARGET_BASE" ;; esac
WIN_TARGET="$TARGET_BASE/windows"
OUT="$WIN_TARGET/wine-bin"
BUILD_TIMEOUT=${RT_WINDOWS_BUILD_TIMEOUT:-1500}
SUITE_TIMEOUT=${RT_WINDOWS_SUITE_TIMEOUT:-600}
PACKAGES=(rustc-web cargo-web rust-web-src rust-web-clippy gcc-mingw-w64-x86-64 wine64)
MINGW_GCC=x86_64-w64-mingw32-gcc

say() { printf 'windows-check: %s\n' "$*" >&2; }
die() { printf 'windows-check: error: %s\n' "$*" >&2; exit 1; }
step_start=$(date +%s)
step() {
  local now
  now=$(date +%s)
  say "($((now - step_start)) s) $*"
  step_start=$now
}
started=$(date +%s)

# 1. Packages.
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
for t in openssl curl jq; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]} (install them: sudo apt-get install --no-install-recommends ${missing[*]})"
  say "installing ${missing[*]}"
  timeout 300 apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  step "packages installed"
fi

# Debian's cargo and rustc (not the rustup proxies earlier on PATH), and their clippy.
DEB_CARGO=$(dpkg -L cargo-web | grep -m1 '/bin/cargo$') || die "cargo-web has no cargo binary"
DEB_BIN=$(dirname "$DEB_CARGO")
[ -x "$DEB_BIN/rustc" ] && [ -x "$DEB_BIN/cargo-clippy" ] || die "rustc-web or rust-web-clippy is not in $DEB_BIN"
WINE64=$(dpkg -L wine64 | grep -m1 '/wine64$') || die "wine64 has no wine64 binary"
WINESERVER=$(dirname "$WINE64")/wineserver
# deb_cargo SUBCOMMAND ARGS...: the subcommand for the Windows target, bounded in time.
deb_cargo() {
  local sub=$1
  shift
  PATH="$DEB_BIN:$PATH" RUSTC="$DEB_BIN/rustc" RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=$MINGW_GCC \
    timeout -k 10 "$BUILD_TIMEOUT" "$DEB_CARGO" "$sub" \
    -Z build-std=std,panic_abort --target "$TRIPLE" --target-dir "$WIN_TARGET" --locked "$@"
}
say "$("$DEB_BIN/rustc" --version) for $TRIPLE; artefacts in $WIN_TARGET"

# 2. Build and lint.
deb_cargo build -p rt-agent -p rt-tui --bins
step "built rt-agent.exe and rt-tui.exe"
deb_cargo clippy -p rt-agent -p rt-tui --lib --bins -- -D warnings
step "clippy for $TRIPLE: no warnings"

mkdir -p "$OUT"
cp "$WIN_TARGET/$TRIPLE/debug/rt-agent.exe" "$WIN_TARGET/$TRIPLE/debug/rt-tui.exe" "$OUT/"
$MINGW_GCC -O2 -Wall -shared -o "$OUT/bcryptprimitives.dll" \
  scripts/windows/processprng.c scripts/windows/processprng.def -ladvapi32
$MINGW_GCC -O2 -Wall -o "$OUT/trust-ca.exe" scripts/windows/trust-ca.c -lcrypt32
say "$(du -h "$OUT/rt-agent.exe" | cut -f1) rt-agent.exe, $(du -h "$OUT/rt-tui.exe" | cut -f1) rt-tui.exe (debug) in $OUT"

# 3. Wine smoke suite against the Linux server and console.
if [ "$WINE" = 1 ]; then
  # The same command as scripts/test.sh, so that in CI this reuses the suite's build (with
  # `-p rt-server -p rt-tui` cargo unifies features differently and rebuilds both).
  cargo build --workspace --bins
  step "Linux rt-server and rt-tui built"
  work=$(mktemp -d "${TMPDIR:-/tmp}/rt-wine-smoke.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  WINE64="$WINE64" WINESERVER="$WINESERVER" timeout -k 30 "$SUITE_TIMEOUT" \
    bash scripts/windows/wine-smoke.sh "$OUT" "$TARGET_BASE/debug" "$work"
  step "Wine smoke suite passed"
fi
say "done in $(($(date +%s) - started)) s"
