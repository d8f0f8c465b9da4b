#!/usr/bin/env bash
# Builds PlantRouter's libFuzzer targets and runs each for a while (Docs/Fuzzing.md).
#
#   Fuzz/run.sh [--seconds N] [--release] [--keep] [target…]
#                                       targets: fuzz-envelope fuzz-recorded fuzz-topics (default: all)
#
# Each target first replays its saved crash inputs (Fuzz/Regressions/<target>/), then fuzzes
# for N seconds (default 30) on a copy of its seed corpus (Fuzz/Corpus/<target>/), so the
# committed corpus does not grow. Exits non-zero when any target crashes, hangs (5 s per
# input), leaks, or runs out of memory (2 GiB); the input that did it is copied to
# Fuzz/.build/findings/<target>/ and its path printed. --keep also copies the grown corpus there.
# The default debug build is the quickest to build (CI); --release builds for about twice as
# long and runs 2-5 times as many inputs per second (long runs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=30
keep=0
configuration=debug
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --seconds=*) seconds="${1#*=}"; shift ;;
        --keep) keep=1; shift ;;
        --release) configuration=release; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        fuzz-envelope|fuzz-recorded|fuzz-topics) targets+=("$1"); shift ;;
        *) echo "run.sh: unknown argument '$1' (targets: fuzz-envelope fuzz-recorded fuzz-topics)" >&2; exit 2 ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(fuzz-envelope fuzz-recorded fuzz-topics)
case "$seconds" in ''|*[!0-9]*) echo "run.sh: --seconds takes a whole number" >&2; exit 2 ;; esac

# Largest input per target: a few records / lines, or one Topics file.
max_len() {
    case "$1" in
        fuzz-envelope) echo 8192 ;;
        fuzz-recorded) echo 4096 ;;
        fuzz-topics) echo 16384 ;;
    esac
}

# Same dependency versions as the root build, and no network round trip when it has resolved.
[ -f Fuzz/Package.resolved ] || [ ! -f Package.resolved ] || cp Package.resolved Fuzz/Package.resolved
# Swift 6.3's Foundation leaks on reading an empty file; see the file for why that is not ours.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan-suppressions.txt${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

start=$(date +%s)
echo "== building the fuzz targets ($configuration, -sanitize=fuzzer,address)"
build_flags=(--package-path Fuzz -c "$configuration" -Xswiftc -sanitize=fuzzer,address)
# ASan's instrumented objects make gold warn once per symbol; progress lines are noise too.
mkdir -p Fuzz/.build
if ! swift build "${build_flags[@]}" >Fuzz/.build/run-build.log 2>&1; then
    grep -v "Cannot export local symbol" Fuzz/.build/run-build.log | tail -40
    echo "run.sh: the fuzz build failed (log: Fuzz/.build/run-build.log)" >&2
    exit 1
fi
bin="$(swift build "${build_flags[@]}" --show-bin-path)"
for target in "${targets[@]}"; do
    [ -x "$bin/$target" ] || { echo "run.sh: the build produced no $bin/$target" >&2; exit 1; }
done
echo "   built in $(( $(date +%s) - start )) s"

work="$(mktemp -d "${TMPDIR:-/tmp}/plantrouter-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp"
findings="Fuzz/.build/findings"
failed=0
summary=()
for target in "${targets[@]}"; do
    echo "== $target: ${seconds} s"
    corpus="$work/corpus-$target"
    mkdir -p "$corpus" "$work/artifacts-$target"
    cp Fuzz/Corpus/"$target"/* "$corpus"/ 2>/dev/null || true
    dict="Fuzz/Dictionaries/${target#fuzz-}.dict"
    options=(-timeout=5 -rss_limit_mb=2048 -max_len="$(max_len "$target")" -dict="$dict"
             -artifact_prefix="$work/artifacts-$target/" -print_final_stats=1)
    log="$work/$target.log"
    result=ok
    # The saved crash inputs first: each must now pass.
    if compgen -G "Fuzz/Regressions/$target/*" >/dev/null; then
        if ! TMPDIR="$work/tmp" "$bin/$target" "${options[@]}" Fuzz/Regressions/"$target"/* >"$work/$target-regressions.log" 2>&1; then
            result="regression input fails again"
            tail -40 "$work/$target-regressions.log"
        fi
    fi
    status=0
    if [ "$result" = ok ]; then
        TMPDIR="$work/tmp" "$bin/$target" "${options[@]}" -max_total_time="$seconds" "$corpus" >"$log" 2>&1 || status=$?
        if [ $status -ne 0 ]; then
            if grep -q 'ERROR: libFuzzer: timeout' "$log"; then result="timeout (over 5 s on one input)"
            elif grep -q 'ERROR: libFuzzer: out-of-memory\|rss limit' "$log"; then result="out of memory (over 2048 MB)"
            elif grep -q 'ERROR: LeakSanitizer' "$log"; then result="leak"
            else result="crash"; fi
            grep -E 'ERROR:|Fatal error|SUMMARY|Precondition failed|Test unit written' "$log" | head -20 || true
            tail -60 "$log"
        fi
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" 2>/dev/null | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" 2>/dev/null | tail -1 || true)
    corp=$(find "$corpus" -type f | wc -l)
    if [ "$result" != ok ]; then
        failed=1
        mkdir -p "$findings/$target"
        for artifact in "$work/artifacts-$target"/*; do
            [ -e "$artifact" ] || continue
            cp "$artifact" "$findings/$target/" && echo "   input saved: $findings/$target/$(basename "$artifact")"
        done
    fi
    if [ $keep -eq 1 ]; then mkdir -p "$findings/$target/corpus" && cp "$corpus"/* "$findings/$target/corpus/"; fi
    summary+=("$(printf '%-14s %10s execs %8s exec/s  %-20s corpus %5s  %s' "$target" "${runs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$corp" "$result")")
done
echo "== summary (${seconds} s per target, $(( $(date +%s) - start )) s in all)"
printf '%s\n' "${summary[@]}"
exit $failed
