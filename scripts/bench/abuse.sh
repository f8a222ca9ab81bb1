#!/usr/bin/env bash
# Part 6: the server's peak RSS under the abuse suite's worst case (issue 11, item 3). Runs the
# test `rt-server/tests/abuse.rs::sixty_four_parallel_worst_case_requests_of_every_kind_stay_under_256_mib`
# (it starts the rt-server binary of the test build, a debug build, and sends 64 parallel
# requests of each of six worst-case kinds), and records the peak it prints: VmHWM of the
# server process from /proc, before and after the attack. Writes target/bench/6-abuse.md.
source "$(dirname "$0")/common.sh"

FRAG="$OUT/6-abuse.md"
TEST=sixty_four_parallel_worst_case_requests_of_every_kind_stay_under_256_mib
MACHINE="$(machine_line)"
log "abuse: cargo test -p rt-server --test abuse $TEST"
status=passed
if ! (cd "$ROOT" && cargo test -q -p rt-server --test abuse -- --exact "$TEST" --nocapture) \
    >"$OUT/abuse.log" 2>&1; then
    status=FAILED
fi
line="$(grep -m1 '^peak RSS:' "$OUT/abuse.log" || true)"
before_kib="$(sed -n 's/^peak RSS: \([0-9]*\) KiB before.*/\1/p' <<<"$line")"
peak_kib="$(sed -n 's/.* KiB before the attack, \([0-9]*\) KiB after.*/\1/p' <<<"$line")"
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
if [ -n "$peak_kib" ]; then
    figure="$(mib "$before_kib") MiB before -> $(mib "$peak_kib") MiB peak"
    verdict="$(awk -v k="$peak_kib" 'BEGIN { print (k < 256 * 1024) ? "met" : "MISSED" }')"
else
    figure="not measured (no figure in the test's output)"
    verdict="not measured"
fi

cat >"$FRAG" <<MD
## 6. Abuse suite: server peak RSS

Run: $MACHINE

\`cargo test -p rt-server --test abuse -- --exact $TEST --include-ignored --nocapture\` ($status; it also runs in every scripts/test.sh): the test starts the
\`rt-server\` binary of the test build (debug profile, as \`scripts/test.sh\` runs it) with default limits and
5,000 stored samples, then sends at once 64 of each of six worst-case requests: a ~32 KiB gzip telemetry body
inflating to 32 MiB of numbers, a ~3.6 MiB plain telemetry body of 900 padded 4 KB samples, a login and an
enrollment with wrong passwords (argon2), a 250 KiB JSON body with an ignored array, and a JSON export of every
sample. Figures: the server's VmHWM from /proc after start-up and stored data, and after all 384 requests ended.

| figure | value | target | verdict |
| --- | --- | --- | --- |
| server peak RSS under 64 x 6 parallel worst-case requests (VmHWM, idle -> peak) | $figure | < 256 MiB | $verdict |
MD
log "abuse: $figure ($status)"
# A figure was measured: the section reports it (and its verdict) even when the test failed.
[ -n "$peak_kib" ]
